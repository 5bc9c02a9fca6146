"""gunicorn settings for production: ``gunicorn -c gunicorn.conf.py``.

Every value can be set from the environment; docs/deployment.md lists them.
Logs go to standard error as JSON lines, gunicorn's access log included,
through the same structlog formatter as Django's own logs.
"""

import multiprocessing
import os

from supportdesk.settings import LOGGING

wsgi_app = "supportdesk.wsgi:application"

# One address, or several separated by commas (such as a Unix socket and a
# port). Behind a reverse proxy on the same host, 127.0.0.1 is enough.
bind = os.environ.get(
    "GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}"
).split(",")

# gunicorn's documented starting point is 2 workers per core plus 1.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))

# Seconds a worker may spend on one request before the master restarts it.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# Seconds that workers get after SIGTERM or a reload to finish the requests
# they hold, so a deploy does not cut off a refund being approved.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# Seconds to hold an idle keep-alive connection from the proxy.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))

# Restart each worker after this many requests (with jitter so that they do
# not all restart at once), which bounds slow memory growth.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "1000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "100"))

# Proxies whose X-Forwarded-* headers gunicorn trusts, comma-separated.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# With logconfig_dict, gunicorn logs access without an accesslog setting.
# Its records go up to the root logger and its structured handler;
# supportdesk.log_processors turns access records into fields.
logconfig_dict = {
    **LOGGING,
    "loggers": {
        **LOGGING["loggers"],
        "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": True},
    },
}
