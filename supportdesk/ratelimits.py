"""Rate limits on the public forms, counted per client IP and per email address.

Counters live in the default cache (django-ratelimit). With
``RATELIMIT_FAIL_OPEN`` on, a Redis outage lets requests through instead of
turning every customer away; the cache logs the outage.
"""

from __future__ import annotations

from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited


def over_limit(
    request: HttpRequest,
    group: str,
    *,
    email: str,
    ip_rate: str,
    email_rate: str,
) -> bool:
    """Count one attempt per IP and per ``email``; True when either is over.

    Both counters go up on every call, so an attacker who rotates addresses
    still meets the per-IP limit. ``email`` is compared lower-cased and
    trimmed; an empty one shares a single counter.
    """
    email_key = email.strip().lower()
    by_ip = is_ratelimited(
        request, group=f"{group}-ip", key="ip", rate=ip_rate, increment=True
    )
    by_email = is_ratelimited(
        request,
        group=f"{group}-email",
        key=lambda group, req: email_key,
        rate=email_rate,
        increment=True,
    )
    return by_ip or by_email
