"""Skip Redis for a while after it fails, so pages stay fast in an outage.

django-redis turns each Redis error into a cache miss (IGNORE_EXCEPTIONS),
but only after its socket timeout. A page that makes several cache calls
while Redis stalls would wait that long for every call: the session, then
each count and presence lookup. BreakerClient, django-redis's client with a
breaker, lets the first failure through. Every call of the next
RETRY_SECONDS then returns a miss at once. The breaker is per process.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django_redis.client import DefaultClient
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

RETRY_SECONDS = 30
_open_until = 0.0


def is_open() -> bool:
    """Return True while Redis is being skipped after a failure."""
    return time.monotonic() < _open_until


def trip(exc: Exception) -> None:
    """Skip Redis for RETRY_SECONDS after ``exc``; log once per opening."""
    global _open_until
    if not is_open():
        logger.warning(
            "Redis failed, skipping it for %s seconds: %s", RETRY_SECONDS, exc
        )
    _open_until = time.monotonic() + RETRY_SECONDS


def reset() -> None:
    """Close the breaker, so the next call tries Redis again."""
    global _open_until
    _open_until = 0.0


class BreakerClient(DefaultClient):
    """django-redis's client that returns misses while the breaker is open.

    The common calls return their miss value (None or the default, {}, False,
    0) without touching Redis. Any other call raises ConnectionInterrupted,
    which IGNORE_EXCEPTIONS turns into its miss value as well.
    """

    def _guarded(self, skipped: Any, method, *args: Any, **kwargs: Any) -> Any:
        if is_open():
            return skipped
        try:
            return method(*args, **kwargs)
        except ConnectionInterrupted as exc:
            trip(exc)
            raise

    def get(self, key, default=None, *args, **kwargs):
        return self._guarded(default, super().get, key, default, *args, **kwargs)

    def get_many(self, *args, **kwargs):
        return self._guarded({}, super().get_many, *args, **kwargs)

    def set(self, *args, **kwargs):
        return self._guarded(False, super().set, *args, **kwargs)

    def set_many(self, *args, **kwargs):
        return self._guarded(None, super().set_many, *args, **kwargs)

    def add(self, *args, **kwargs):
        return self._guarded(False, super().add, *args, **kwargs)

    def delete(self, *args, **kwargs):
        return self._guarded(0, super().delete, *args, **kwargs)

    def delete_many(self, *args, **kwargs):
        return self._guarded(0, super().delete_many, *args, **kwargs)

    def has_key(self, *args, **kwargs):
        return self._guarded(False, super().has_key, *args, **kwargs)

    def touch(self, *args, **kwargs):
        return self._guarded(False, super().touch, *args, **kwargs)

    def get_client(self, *args, **kwargs):
        if is_open():
            raise ConnectionInterrupted(connection=None) from RedisError(
                "Skipped: Redis failed less than RETRY_SECONDS ago."
            )
        return super().get_client(*args, **kwargs)
