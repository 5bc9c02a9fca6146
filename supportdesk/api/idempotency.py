"""Idempotency-Key for POST requests that create things.

A client that sends ``Idempotency-Key: <key>`` may retry the request safely:
the first successful response is stored under the user and the key, and a
retry with the same body gets that response again, marked with
``Idempotent-Replayed: true``. The same key with another body is rejected
with 422. Concurrent requests with one key run one after the other, because
the first holds the record's unique index entry (PostgreSQL) or the write
lock (SQLite in IMMEDIATE mode) until it commits.

A request that fails stores nothing, so the client can fix it and retry
with the same key.

NOTE: This store is temporary, until the refund engine's idempotency model
replaces IdempotencyRecord. Views call only ``idempotency_key`` and
``run_idempotent``, so the swap touches this module and its model alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from rest_framework.request import Request
from rest_framework.response import Response

from supportdesk.api.models import IdempotencyRecord
from supportdesk.errors import DomainError

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


class IdempotencyKeyReused(DomainError):
    """The key was used before with another request body."""

    status_code = 422
    code = "idempotency_key_reused"


def idempotency_key(request: Request) -> str | None:
    """Return the request's Idempotency-Key, None if absent; raise if invalid."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise DomainError(
            f"The {HEADER} header must be 1 to {MAX_KEY_LENGTH} printable "
            "characters, such as a UUID.",
            field=HEADER,
        )
    return key


def request_fingerprint(request: Request) -> str:
    """Return a SHA-256 of the method, the path and the parsed JSON body."""
    body = json.dumps(
        request.data, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder
    )
    text = f"{request.method} {request.path}\n{body}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def run_idempotent(
    request: Request, *, key: str | None, perform: Callable[[], Response]
) -> Response:
    """Run ``perform`` once per user and key, and replay its response after.

    Without a key, ``perform`` simply runs. ``perform`` must do all its
    writes in the database that stores the records, since the first
    request's writes and its record commit together.
    """
    if key is None:
        return perform()
    fingerprint = request_fingerprint(request)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=request.user, key=key, fingerprint=fingerprint
                )
        except IntegrityError:
            stored = IdempotencyRecord.objects.get(user=request.user, key=key)
            return _replay(stored, fingerprint)
        response = perform()
        if response.status_code >= 300:
            # Roll back the record, so a retry with this key runs again.
            transaction.set_rollback(True)
            return response
        record.status_code = response.status_code
        record.body = response.data
        record.location = response.headers.get("Location", "")
        record.save(update_fields=["status_code", "body", "location"])
    return response


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            f"The {HEADER} {record.key!r} was already used with a different "
            "request. Send a new key for a new request.",
            field=HEADER,
        )
    headers: dict[str, Any] = {"Idempotent-Replayed": "true"}
    if record.location:
        headers["Location"] = record.location
    return Response(record.body, status=record.status_code, headers=headers)
