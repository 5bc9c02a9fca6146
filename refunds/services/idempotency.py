"""Exactly-once writes for callers that send an idempotency key.

An API view passes the caller's ``Idempotency-Key`` header, a fingerprint of
the request and the write to perform::

    outcome = idempotent_call(
        scope=idempotency_scope(actor),
        key=request.headers["Idempotency-Key"],
        fingerprint=request_fingerprint("POST", request.path, request.body),
        perform=lambda: (201, serializer.data, {"Location": url}),
    )
    return Response(outcome.body, status=outcome.status, headers=outcome.headers)

The first call performs the write and stores its response in the same
transaction. A later call with the same key and the same request gets that
response back without writing again. The same key with another request
raises IdempotencyKeyReused (422). A concurrent second call waits for the
first one's transaction and then gets its response.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.audit import Actor
from refunds.models import IdempotencyRecord
from supportdesk.errors import DomainError
from supportdesk.problems import domain_problem_body

logger = logging.getLogger(__name__)

MAX_KEY_LENGTH = 255
# Stored responses older than this may be deleted by idempotency_purge; a key
# reused after that performs the write again.
RETENTION = timedelta(hours=24)


class IdempotencyKeyReused(DomainError):
    """The key was first used with another request."""

    status_code = 422
    code = "idempotency_key_reused"


@dataclass(frozen=True)
class IdempotentOutcome:
    status: int
    body: Any
    # True when the response was stored by an earlier call with this key.
    replayed: bool
    headers: dict[str, str] = field(default_factory=dict)


def idempotency_scope(actor: Actor) -> str:
    """Return the namespace of an actor's keys, such as ``user:42``."""
    if actor.user is not None:
        return f"user:{actor.user.pk}"
    return f"{actor.kind}:{actor.name}"[:150]


def request_fingerprint(method: str, path: str, body: bytes | str) -> str:
    """Return a SHA-256 of the request that ignores JSON key order and spacing.

    A JSON body is read with Decimal numbers and written back in a canonical
    form, so ``6.95`` and ``6.950`` differ but ``{"a":1, "b":2}`` and
    ``{"b": 2, "a": 1}`` do not. Any other body is hashed as sent.
    """
    raw = body.encode("utf-8") if isinstance(body, str) else body
    try:
        parsed = json.loads(raw, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        canonical = raw
    else:
        canonical = json.dumps(
            parsed, sort_keys=True, separators=(",", ":"), default=str
        ).encode("utf-8")
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode("utf-8"), canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def idempotent_call(
    *,
    scope: str,
    key: str,
    fingerprint: str,
    perform: Callable[[], tuple[int, Any] | tuple[int, Any, dict[str, str]]],
) -> IdempotentOutcome:
    """Run ``perform`` once per (scope, key) and return its stored response.

    ``perform`` returns ``(status, JSON-serialisable body)``, optionally with
    a dict of headers to replay; it should be one service call, which is
    atomic by itself. A DomainError it raises is stored
    as a problem-details response with the error's status, so a retry gets
    the same response. What the service recorded about the refusal, such as a
    declined refund attempt, is kept. Any other exception rolls everything
    back and stores nothing, so the caller may retry.
    """
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise DomainError(
            f"The idempotency key must be 1 to {MAX_KEY_LENGTH} printable "
            "characters, such as a UUID.",
            field="idempotency_key",
        )
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    scope=scope,
                    key=key,
                    fingerprint=fingerprint,
                    response_status=0,
                )
        except IntegrityError:
            # The key was used before. On PostgreSQL the insert waited until
            # the first caller's transaction committed. On SQLite the whole
            # transaction waited for it. Either way its response is visible.
            return _replay(scope, key, fingerprint)
        headers: dict[str, str] = {}
        try:
            status, body, *rest = perform()
        except DomainError as exc:
            status, body = exc.status_code, domain_problem_body(exc)
        else:
            headers = rest[0] if rest else {}
        record.response_status = status
        record.response_body = body
        record.response_headers = headers
        record.save(
            update_fields=["response_status", "response_body", "response_headers"]
        )
    return IdempotentOutcome(status=status, body=body, replayed=False, headers=headers)


def _replay(scope: str, key: str, fingerprint: str) -> IdempotentOutcome:
    record = IdempotencyRecord.objects.get(scope=scope, key=key)
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "This idempotency key was already used for a different request. Send "
            "a new key for a new request."
        )
    logger.info(
        "Replayed the stored response for an idempotency key",
        extra={"scope": scope, "status": record.response_status},
    )
    return IdempotentOutcome(
        status=record.response_status,
        body=record.response_body,
        replayed=True,
        headers=record.response_headers,
    )


def idempotency_purge(*, now=None) -> int:
    """Delete stored responses older than RETENTION; return how many."""
    cutoff = (now or timezone.now()) - RETENTION
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
