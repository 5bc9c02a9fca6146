"""Signed webhooks between Supportdesk and the shop, in both directions.

Each request carries a Unix time stamp and an HMAC-SHA256 signature, keyed
with the endpoint's secret, over ``"<timestamp>.<raw body>"``:

    Supportdesk-Timestamp: 1767225600
    Supportdesk-Signature: v1=<64 lowercase hex digits>

Outgoing webhooks also carry ``Supportdesk-Event-Id``, which the receiver
de-duplicates on, and ``Supportdesk-Event-Type``. docs/refunds.md shows how a
receiver verifies them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from supportdesk.errors import DomainError

EVENT_ID_HEADER = "Supportdesk-Event-Id"
EVENT_TYPE_HEADER = "Supportdesk-Event-Type"
TIMESTAMP_HEADER = "Supportdesk-Timestamp"
SIGNATURE_HEADER = "Supportdesk-Signature"
SIGNATURE_VERSION = "v1"


class InvalidSignature(DomainError):
    """A request whose signature or time stamp does not verify."""

    status_code = 401
    code = "invalid_signature"


def serialize(payload: dict[str, Any]) -> bytes:
    """Return the exact body bytes of a webhook: compact JSON, sorted keys."""
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Return the signature header value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256
    ).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def signed_headers(
    *, secret: str, body: bytes, timestamp: int, event_id: str, event_type: str
) -> dict[str, str]:
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Supportdesk-Webhooks/1",
        EVENT_ID_HEADER: event_id,
        EVENT_TYPE_HEADER: event_type,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }


def verify(
    *,
    secret: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    now: int,
    tolerance: int,
) -> None:
    """Raise InvalidSignature unless the request was signed with ``secret``.

    The time stamp must be within ``tolerance`` seconds of ``now``, so a
    captured request cannot be replayed later. The signature header may list
    several comma-separated ``v1=`` values, as during a secret rotation; one
    match is enough.
    """
    if not timestamp or not signature:
        raise InvalidSignature(
            f"The {TIMESTAMP_HEADER} and {SIGNATURE_HEADER} headers are required."
        )
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise InvalidSignature(
            f"{TIMESTAMP_HEADER} must be Unix time in seconds, not {timestamp[:20]!r}."
        ) from None
    if abs(now - sent_at) > tolerance:
        raise InvalidSignature(
            f"{TIMESTAMP_HEADER} is {abs(now - sent_at)} seconds away from the server "
            f"time; the maximum is {tolerance}. Sign each request when sending it."
        )
    expected = sign(secret, sent_at, body)
    candidates = [part.strip() for part in signature.split(",")]
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise InvalidSignature(
            "The signature does not match the body. Sign the raw body with the "
            "endpoint's secret."
        )
