"""Which agents have a case open and who is typing, with expiry.

The case page reports presence when it loads and then every
HEARTBEAT_SECONDS through htmx; the reply box reports typing. An agent who
stops reporting drops out after PRESENCE_TTL seconds.

With Redis as the cache, each case has two sorted sets (agent id scored by
expiry time) and a hash of display names. One MULTI/EXEC round trip
updates them, so agents who report at the same moment never overwrite
each other.
With another cache (local memory in development) a dict in the cache does
the same without that guarantee. A Redis error opens
supportdesk.cache_breaker and the page shows nobody else, rather than
failing or waiting.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import cast

from django.core.cache import cache
from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

from supportdesk import cache_breaker

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 10
PRESENCE_TTL = 3 * HEARTBEAT_SECONDS
TYPING_TTL = 6


@dataclass(frozen=True)
class Viewer:
    """Another agent who has the case open."""

    agent_id: int
    name: str
    typing: bool


def presence_touch(
    *, case_id: int, agent_id: int, name: str, typing: bool = False
) -> list[Viewer]:
    """Record that the agent has the case open; return the other agents there.

    ``typing`` marks the agent as typing for TYPING_TTL seconds.
    """
    now = time.time()
    if cache_breaker.is_open():
        return []
    try:
        entries = _backend().touch(case_id, agent_id, name, typing, now)
    except (RedisError, ConnectionInterrupted) as exc:
        cache_breaker.trip(exc)
        return []
    viewers = [
        Viewer(agent_id=other, name=other_name, typing=typing_until > now)
        for other, (other_name, typing_until) in entries.items()
        if other != agent_id
    ]
    return sorted(viewers, key=lambda viewer: viewer.name.casefold())


def _backend() -> RedisPresence | CachePresence:
    if hasattr(cache, "client") and hasattr(cache.client, "get_client"):
        return RedisPresence()
    return CachePresence()


class RedisPresence:
    def touch(
        self, case_id: int, agent_id: int, name: str, typing: bool, now: float
    ) -> dict[int, tuple[str, float]]:
        seen_key = cache.make_key(f"presence:{case_id}:seen")
        typing_key = cache.make_key(f"presence:{case_id}:typing")
        names_key = cache.make_key(f"presence:{case_id}:names")
        # _backend() chose this class because the cache is django-redis's.
        redis_cache = cast(RedisCache, cache)
        pipe = redis_cache.client.get_client(write=True).pipeline(transaction=True)
        pipe.zadd(seen_key, {agent_id: now + PRESENCE_TTL})
        pipe.hset(names_key, str(agent_id), name)
        if typing:
            pipe.zadd(typing_key, {agent_id: now + TYPING_TTL})
        for key in (seen_key, typing_key):
            pipe.zremrangebyscore(key, "-inf", now)
        for key in (seen_key, typing_key, names_key):
            pipe.expire(key, PRESENCE_TTL)
        pipe.zrange(seen_key, 0, -1)
        pipe.zrange(typing_key, 0, -1, withscores=True)
        pipe.hgetall(names_key)
        *_, seen, typing_scores, names = pipe.execute()
        typing_until = {int(member): score for member, score in typing_scores}
        return {
            int(member): (
                names.get(member, b"").decode(),
                typing_until.get(int(member), 0.0),
            )
            for member in seen
        }


class CachePresence:
    def touch(
        self, case_id: int, agent_id: int, name: str, typing: bool, now: float
    ) -> dict[int, tuple[str, float]]:
        key = f"presence:{case_id}"
        entries = {
            other: entry
            for other, entry in (cache.get(key) or {}).items()
            if entry[0] > now
        }
        _, _, typing_until = entries.get(agent_id, (0.0, name, 0.0))
        if typing:
            typing_until = now + TYPING_TTL
        entries[agent_id] = (now + PRESENCE_TTL, name, typing_until)
        cache.set(key, entries, timeout=PRESENCE_TTL)
        return {
            other: (other_name, until)
            for other, (_, other_name, until) in entries.items()
        }
