"""The shop's confirmation endpoint: it reports a refund paid back, or failed.

The shop signs each request with its endpoint's secret, in the same way as
the webhooks it receives (see ``refunds.webhooks``). Sending the same
confirmation again is safe: it returns the refund unchanged.
"""

from __future__ import annotations

import json
import logging
import time

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from cases.audit import Actor
from cases.models import AuditEvent
from refunds import services, webhooks
from refunds.models import RefundRequest, WebhookEndpoint, parse_refund_reference
from supportdesk.errors import DomainError, NotFound
from supportdesk.problems import PROBLEM_CONTENT_TYPE, domain_problem_body

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 16 * 1024


def _problem(error: DomainError) -> JsonResponse:
    return JsonResponse(
        domain_problem_body(error),
        status=error.status_code,
        content_type=PROBLEM_CONTENT_TYPE,
    )


@csrf_exempt
@require_POST
def refund_confirmation(request: HttpRequest, endpoint_id: int) -> JsonResponse:
    """Mark a refund refunded, or record that the shop could not pay it.

    The JSON body is ``{"refund": "R-000045", "status": "refunded",
    "external_reference": "re_123"}`` or ``{"refund": ..., "status":
    "failed", "reason": "amount_too_large"}``.
    """
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id, is_active=True).first()
    if endpoint is None:
        return _problem(NotFound("No active webhook endpoint has this address."))
    try:
        if len(request.body) > MAX_BODY_BYTES:
            raise DomainError(f"The body is larger than {MAX_BODY_BYTES} bytes.")
        webhooks.verify(
            secret=endpoint.secret,
            body=request.body,
            timestamp=request.headers.get(webhooks.TIMESTAMP_HEADER),
            signature=request.headers.get(webhooks.SIGNATURE_HEADER),
            now=int(time.time()),
            tolerance=settings.REFUNDS_WEBHOOK_TOLERANCE_SECONDS,
        )
        data = _parse(request.body)
        refund = _refund(data.get("refund"))
        actor = Actor(
            kind=AuditEvent.ActorKind.INTEGRATION, name=f"Shop endpoint {endpoint}"
        )
        if data.get("status") == "refunded":
            refund = services.refund_mark_refunded(
                refund=refund,
                actor=actor,
                external_reference=str(data.get("external_reference") or ""),
            )
        elif data.get("status") == "failed":
            refund = services.refund_record_shop_failure(
                refund=refund,
                actor=actor,
                reason=str(data.get("reason") or "No reason given by the shop."),
            )
        else:
            raise DomainError('Set "status" to "refunded" or "failed".', field="status")
    except DomainError as exc:
        logger.warning(
            "Rejected a refund confirmation: %s",
            exc.code,
            extra={"endpoint": endpoint.pk, "status": exc.status_code},
        )
        return _problem(exc)
    return JsonResponse(
        {
            "refund": refund.reference,
            "status": refund.status,
            "external_reference": refund.external_reference,
        }
    )


def _parse(body: bytes) -> dict:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise DomainError("The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise DomainError("The body must be a JSON object.")
    return data


def _refund(reference) -> RefundRequest:
    pk = parse_refund_reference(reference) if isinstance(reference, str) else None
    refund = RefundRequest.objects.filter(pk=pk).first() if pk else None
    if refund is None:
        raise NotFound(f"No refund has the reference {str(reference)[:40]!r}.")
    return refund
