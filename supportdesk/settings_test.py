"""Settings for the test suite: the real settings with test-only defaults.

The database and Redis come from DATABASE_URL and REDIS_URL as in
production, so the same tests run on SQLite and on PostgreSQL with Redis.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")

from supportdesk.settings import *  # noqa: F403
from supportdesk.settings import STORAGES

# Fast hashing: the tests log agents in many times.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
STORAGES["staticfiles"] = {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

# High API rates, so that only the throttling tests, which lower them, see 429.
API_THROTTLE_RATES = {"user": "100000/m", "ip": "100000/m", "token": "100000/m"}
