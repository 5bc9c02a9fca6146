"""Cached case counts beside the queue's views, invalidated on change.

Every count depends on a few scopes: a team's cases (``team:<id>``, or
``team:none`` for cases without a team) and an agent's own cases
(``agent:<id>``), and a count with search words also on the text of every
case (``text``). Each scope has a generation token in the cache, and a
count is cached under a key that includes the tokens of its scopes. A
change to a case replaces the tokens of its scopes after the commit, so
the next poll misses the cache and counts again. A new message that
changes no field the filters read replaces only the text token, so with
many agents at work the counts without search words stay cached.

Tokens are random rather than incremented, so a token lost from the cache
(evicted, or Redis restarted) can never bring back an old count. When Redis
fails, django-redis returns misses (supportdesk.cache_breaker returns them
at once) and the counts are computed on every request. A renewal that
failed during an outage leaves an old count in Redis for up to
COUNT_TIMEOUT after it recovers.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable

from django.core.cache import cache
from django.db import transaction

# Counts stop here; the page shows "999+".
COUNT_CAP = 999
COUNT_TIMEOUT = 5 * 60
# Counts that also depend on the clock, such as "breaching soon".
TIMED_COUNT_TIMEOUT = 60
TOKEN_TIMEOUT = None  # scope tokens never expire on their own


# Scope of the case text that search words match: subjects and messages.
TEXT_SCOPE = "queue-scope:text"


def team_scope(team_id: int | None) -> str:
    return f"queue-scope:team:{team_id if team_id is not None else 'none'}"


def agent_scope(agent_id: int) -> str:
    return f"queue-scope:agent:{agent_id}"


def invalidate(
    *, team_ids: Iterable[int | None] = (), agent_ids: Iterable[int | None] = ()
) -> None:
    """Expire the counts of these teams' and agents' cases after the commit."""
    keys = {team_scope(team_id) for team_id in team_ids}
    keys |= {agent_scope(agent_id) for agent_id in agent_ids if agent_id is not None}
    if keys:
        transaction.on_commit(lambda: _renew_tokens(keys))


def invalidate_text() -> None:
    """Expire the counts with search words after the commit."""
    transaction.on_commit(lambda: _renew_tokens({TEXT_SCOPE}))


def _renew_tokens(keys: Iterable[str]) -> None:
    cache.set_many({key: uuid.uuid4().hex for key in keys}, timeout=TOKEN_TIMEOUT)


# (name, scope keys, depends on the clock, count function)
CountRequest = tuple[str, list[str], bool, Callable[[], int]]


def cached_counts(owner: str, requests: list[CountRequest]) -> dict[str, int]:
    """Return a count for each request, from the cache where it is fresh.

    Each request is (name, scope keys, depends on the clock, count
    function). ``owner`` separates the counts of different agents. One
    cache round trip reads the tokens and one reads the counts; only the
    misses run their count function.
    """
    scopes = sorted({scope for _, keys, _, _ in requests for scope in keys})
    tokens = cache.get_many(scopes)
    missing = {scope: uuid.uuid4().hex for scope in scopes if scope not in tokens}
    if missing:
        cache.set_many(missing, timeout=TOKEN_TIMEOUT)
        tokens.update(missing)
    keys = {
        name: _count_key(owner, name, [tokens[scope] for scope in sorted(scope_keys)])
        for name, scope_keys, _, _ in requests
    }
    # Counts under a token made just now cannot be in the cache yet.
    cached = cache.get_many(list(keys.values())) if not missing else {}
    results: dict[str, int] = {}
    fresh: dict[int, dict[str, int]] = {}
    for name, _, timed, count in requests:
        key = keys[name]
        if key in cached:
            results[name] = cached[key]
            continue
        results[name] = count()
        timeout = TIMED_COUNT_TIMEOUT if timed else COUNT_TIMEOUT
        fresh.setdefault(timeout, {})[key] = results[name]
    for timeout, values in fresh.items():
        cache.set_many(values, timeout=timeout)
    return results


def _count_key(owner: str, name: str, tokens: list[str]) -> str:
    digest = hashlib.blake2b("\n".join([name, *tokens]).encode(), digest_size=12)
    return f"queue-count:{owner}:{digest.hexdigest()}"
