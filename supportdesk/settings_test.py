"""Settings for the test suite: the real settings with test-only defaults.

The database and Redis come from DATABASE_URL and REDIS_URL as in
production, so the same tests run on SQLite and on PostgreSQL with Redis.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")

from supportdesk.settings import *  # noqa: F403
from supportdesk.settings import BASE_DIR, CACHES, REDIS_URL, STORAGES

if REDIS_URL:
    # pytest-xdist workers share one Redis database; a prefix per worker keeps
    # one worker's cache clearing (conftest.py) from wiping the other's keys.
    CACHES["default"]["KEY_PREFIX"] = (
        f"supportdesk-test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    )

# Fast hashing: the tests log agents in many times.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
STORAGES["staticfiles"] = {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
# An empty folder: the tests serve static files from the finders, and
# whitenoise warns at every start when STATIC_ROOT is missing.
STATIC_ROOT = BASE_DIR / "var" / "test-static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

# High API rates, so that only the throttling tests, which lower them, see 429.
API_THROTTLE_RATES = {"user": "100000/m", "ip": "100000/m", "token": "100000/m"}
