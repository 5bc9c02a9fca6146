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

# Fast hashing: the tests log agents in many times.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
STORAGES["staticfiles"] = {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

# pytest-xdist workers share one Redis database; a key prefix per worker lets
# each test empty its own keys without wiping another worker's rate limits.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
CACHES["default"]["KEY_PREFIX"] = f"{CACHES['default'].get('KEY_PREFIX', '')}-{_worker}"
