"""Idempotency-Key for POST requests that create things.

A client that sends ``Idempotency-Key: <key>`` may retry the request safely.
The refund engine's store (``refunds.services.idempotency``) runs the write
once per user and key and keeps its response: a retry with the same body
gets that response again, marked ``Idempotent-Replayed: true``, and the same
key with another body is rejected with 422. Concurrent requests with one key
run one after the other.

A business refusal raised by a service (a refund that is not eligible, say)
is stored and replayed like a success. Invalid input, which DRF rejects
before the service runs, stores nothing, so the client can fix the body and
retry with the same key.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.core.serializers.json import DjangoJSONEncoder
from rest_framework.request import Request
from rest_framework.response import Response

from cases.audit import Actor
from refunds.services.idempotency import (
    MAX_KEY_LENGTH,
    IdempotencyKeyReused,
    idempotency_scope,
    idempotent_call,
    request_fingerprint,
)
from supportdesk.errors import DomainError
from supportdesk.problems import PROBLEM_CONTENT_TYPE

__all__ = ["HEADER", "IdempotencyKeyReused", "idempotency_key", "run_idempotent"]

HEADER = "Idempotency-Key"
# Response headers stored with the body and sent again on a replay.
REPLAYED_HEADERS = ("Location",)


class _ResponseNotStored(Exception):
    """An error response that ``perform`` returned rather than raised."""

    def __init__(self, response: Response):
        super().__init__(response.status_code)
        self.response = response


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


def run_idempotent(
    request: Request, *, key: str | None, perform: Callable[[], Response]
) -> Response:
    """Run ``perform`` once per user and key, and replay its response after.

    Without a key, ``perform`` simply runs. ``perform`` must do all its
    writes in the database that stores the keys, since the first request's
    writes and its stored response commit together.
    """
    if key is None:
        return perform()

    def call() -> tuple[int, object, dict[str, str]]:
        response = perform()
        if response.status_code >= 300:
            raise _ResponseNotStored(response)
        headers = {
            name: response[name]
            for name in REPLAYED_HEADERS
            if response.has_header(name)
        }
        return response.status_code, response.data, headers

    if request.method is None:
        raise ValueError("run_idempotent() needs a request with an HTTP method.")
    body = json.dumps(request.data, cls=DjangoJSONEncoder)
    try:
        outcome = idempotent_call(
            scope=idempotency_scope(Actor.for_user(request.user)),
            key=key,
            fingerprint=request_fingerprint(request.method, request.path, body),
            perform=call,
        )
    except IdempotencyKeyReused as exc:
        raise IdempotencyKeyReused(
            f"The {HEADER} {key!r} was already used with a different request. "
            "Send a new key for a new request.",
            field=HEADER,
        ) from exc
    except _ResponseNotStored as exc:
        return exc.response
    headers = dict(outcome.headers)
    if outcome.replayed:
        headers["Idempotent-Replayed"] = "true"
    content_type = PROBLEM_CONTENT_TYPE if outcome.status >= 400 else None
    return Response(
        outcome.body, status=outcome.status, headers=headers, content_type=content_type
    )
