"""The inbound mail endpoint and the agents' attachment downloads."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from cases import selectors
from cases.mail.inbound import InboundResult, MessageTooLarge, inbound_email_receive
from cases.mail.models import EmailAttachment, InboundEmail
from cases.mail.parsing import MalformedEmail
from cases.views import AgentRequest, agent_required

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "HTTP_X_SUPPORTDESK_SIGNATURE"
TIMESTAMP_HEADER = "HTTP_X_SUPPORTDESK_TIMESTAMP"
# A signed request older or newer than this is rejected as a replay.
SIGNATURE_MAX_AGE_SECONDS = 300
READ_CHUNK = 64 * 1024


def _problem(status: int, detail: str, **headers: str) -> JsonResponse:
    response = JsonResponse({"error": detail}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


@csrf_exempt
@require_POST
def inbound_mail(request: HttpRequest) -> JsonResponse:
    """Accept one raw RFC 5322 message as the request body.

    Authenticates with ``Authorization: Bearer <MAIL_INBOUND_TOKEN>``, or
    with ``X-Supportdesk-Timestamp`` (Unix seconds) and
    ``X-Supportdesk-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>." and
    the body, keyed with MAIL_INBOUND_HMAC_SECRET>``. Answers 201 when the
    message is stored, 200 when it was stored before or is our own echo,
    400 for a malformed message, 401 without valid credentials and 413 above
    MAIL_MAX_MESSAGE_BYTES. There is no session, so no CSRF check.
    """
    token = settings.MAIL_INBOUND_TOKEN
    secret = settings.MAIL_INBOUND_HMAC_SECRET
    if not token and not secret:
        raise Http404("The inbound mail endpoint is not configured.")
    limit = settings.MAIL_MAX_MESSAGE_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _problem(400, "The Content-Length header is not a number.")

    bearer = request.META.get("HTTP_AUTHORIZATION", "")
    if bearer:
        scheme, _, value = bearer.partition(" ")
        if not (
            token
            and scheme.lower() == "bearer"
            and constant_time_compare(value.strip(), token)
        ):
            return _unauthorized()
    elif not (secret and request.META.get(SIGNATURE_HEADER)):
        return _unauthorized()
    if declared > limit:
        return _too_large(limit)
    raw = _read_body(request, limit)
    if raw is None:
        return _too_large(limit)
    if not bearer and not _signature_valid(request, raw, secret):
        return _unauthorized()

    try:
        result = inbound_email_receive(raw=raw, source=InboundEmail.Source.HTTP)
    except MessageTooLarge:
        return _too_large(limit)
    except MalformedEmail as exc:
        return _problem(400, f"Malformed message: {exc}")
    return JsonResponse(_result_json(result), status=_status_for(result))


def _unauthorized() -> JsonResponse:
    return _problem(
        401,
        "Missing or invalid credentials. Send Authorization: Bearer <token> or "
        "a valid X-Supportdesk-Signature.",
        WWW_Authenticate='Bearer realm="inbound-mail"',
    )


def _too_large(limit: int) -> JsonResponse:
    return _problem(413, f"The message is larger than {limit:,} bytes.")


def _read_body(request: HttpRequest, limit: int) -> bytes | None:
    """Read at most ``limit`` bytes of the body; None when there is more."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = request.read(READ_CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)


def _signature_valid(request: HttpRequest, raw: bytes, secret: str) -> bool:
    timestamp = request.META.get(TIMESTAMP_HEADER, "")
    if not timestamp.isdigit():
        return False
    if abs(time.time() - int(timestamp)) > SIGNATURE_MAX_AGE_SECONDS:
        return False
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256
    ).hexdigest()
    given = request.META.get(SIGNATURE_HEADER, "").removeprefix("sha256=")
    return hmac.compare_digest(given.strip().lower(), expected)


def _status_for(result: InboundResult) -> int:
    return 200 if result.duplicate or result.dropped else 201


def _result_json(result: InboundResult) -> dict:
    inbound = result.inbound
    return {
        "status": "duplicate"
        if result.duplicate
        else "dropped"
        if result.dropped
        else "stored",
        "message_id": inbound.message_id if inbound else None,
        "disposition": inbound.disposition if inbound else None,
        "case": inbound.case.reference if inbound and inbound.case else None,
        "attachments_not_stored": len(result.skipped_attachments),
    }


@require_GET
@agent_required
def attachment_download(request: AgentRequest, reference: str, pk: int) -> FileResponse:
    """Send an attachment as a download, never displayed inline."""
    case = selectors.case_for(request.agent, reference)
    attachment = EmailAttachment.objects.filter(pk=pk, case=case).first()
    if attachment is None:
        raise Http404("No such attachment on this case.")
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type or "application/octet-stream",
    )
    # Even if a browser ignored the download disposition, a sandboxed
    # document without sources runs no script.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["X-Content-Type-Options"] = "nosniff"
    return response
