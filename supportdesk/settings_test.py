"""Settings for the test suite: the real settings with test-only defaults.

The database and Redis come from DATABASE_URL and REDIS_URL as in
production, so the same tests run on SQLite and on PostgreSQL with Redis.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")

from supportdesk.settings import *  # noqa: F403
from supportdesk.settings import CACHES, STORAGES

# Each pytest-xdist worker keeps its cache keys apart, so that one worker
# emptying the cache between tests cannot wipe another worker's keys.
_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker and "KEY_PREFIX" in CACHES["default"]:
    CACHES["default"]["KEY_PREFIX"] += f"-{_worker}"

# Fast hashing: the tests log agents in many times.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
STORAGES["staticfiles"] = {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
