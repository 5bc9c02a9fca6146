"""Cache settings whose Redis refuses every connection: nothing listens on
port 1 of 127.0.0.1."""

REDIS_DOWN = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {
            "SOCKET_CONNECT_TIMEOUT": 0.2,
            "IGNORE_EXCEPTIONS": True,
            "CLIENT_CLASS": "supportdesk.cache_breaker.BreakerClient",
        },
    }
}
