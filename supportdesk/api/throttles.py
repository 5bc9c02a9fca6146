"""Request rate limits per user and per client IP address.

Rates come from the API_THROTTLE_RATES setting at each request, so tests and
operators can change them. The client address is REMOTE_ADDR, or with
REST_FRAMEWORK["NUM_PROXIES"] set, the address that many proxies back in
X-Forwarded-For.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class _SettingsRateThrottle(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_RATES.get(self.scope or "")


class UserThrottle(_SettingsRateThrottle):
    """Limit each authenticated user, whatever address the calls come from."""

    scope = "user"

    def get_cache_key(self, request, view) -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class IPThrottle(_SettingsRateThrottle):
    """Limit each client address, whether or not it authenticates."""

    scope = "ip"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {
            "scope": self.scope,
            "ident": self.get_ident(request),
        }


class TokenIPThrottle(IPThrottle):
    """A stricter limit per address on the token endpoints, against guessing."""

    scope = "token"
