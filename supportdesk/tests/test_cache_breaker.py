"""The Redis breaker: one failure, then misses without waiting."""

import time
from typing import cast

import pytest
from django.core.cache import caches
from django.test import override_settings
from django_redis.cache import RedisCache

from supportdesk import cache_breaker
from supportdesk.tests.redis_down import REDIS_DOWN


@override_settings(CACHES=REDIS_DOWN)
def test_first_failure_opens_the_breaker(caplog):
    cache = cast(RedisCache, caches["default"])

    assert cache.get("key", "fallback") == "fallback"
    assert cache_breaker.is_open()
    assert cache.get_many(["a", "b"]) == {}
    assert cache.set("key", 1) is False
    assert cache.add("key", 1) is False
    assert cache.delete("key") in (0, False)
    assert "Redis failed, skipping it for 30 seconds" in caplog.text
    assert caplog.text.count("Redis failed, skipping it") == 1


@override_settings(CACHES=REDIS_DOWN)
def test_open_breaker_skips_other_calls_as_misses():
    cache = cast(RedisCache, caches["default"])
    cache_breaker.trip(RuntimeError("test"))

    assert cache.incr("counter", ignore_key_check=True) is None


def test_breaker_closes_after_retry_time(monkeypatch):
    cache_breaker.trip(RuntimeError("test"))
    later = time.monotonic() + cache_breaker.RETRY_SECONDS + 1

    monkeypatch.setattr(cache_breaker.time, "monotonic", lambda: later)

    assert not cache_breaker.is_open()


@pytest.mark.redis
def test_working_redis_keeps_the_breaker_closed():
    cache = caches["default"]

    cache.set("breaker-probe", 1)

    assert cache.get("breaker-probe") == 1
    assert not cache_breaker.is_open()
