"""The production setup: collectstatic, whitenoise and gunicorn.conf.py.

Starts a real gunicorn with production settings on 127.0.0.1 and a free port.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    """Collect static files and start gunicorn; return its URL and log file."""
    folder = tmp_path_factory.mktemp("production")
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "supportdesk.settings",
        "DEBUG": "0",
        "SECRET_KEY": "deployment-test-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "STATIC_ROOT": str(folder / "static"),
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "LOG_FORMAT": "json",
        "WEB_CONCURRENCY": "2",
        "GUNICORN_GRACEFUL_TIMEOUT": "5",
        "PORT": str(port),
    }
    env.pop("REDIS_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    log = (folder / "gunicorn.log").open("w+")
    server = subprocess.Popen(
        [str(GUNICORN), "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                get(f"{url}/login/")
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail(f"gunicorn did not answer:\n{Path(log.name).read_text()}")
        yield {"url": url, "server": server, "log": Path(log.name)}
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)
        log.close()


def test_static_files_hashed_and_cached(production):
    status, _, body = get(f"{production['url']}/login/")
    stylesheet = re.search(
        r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', body.decode()
    )
    assert stylesheet is not None, "the login page links no hashed stylesheet"

    css_status, headers, css = get(production["url"] + stylesheet[1])

    assert status == 200
    assert css_status == 200
    assert b".skip-link" in css
    assert "immutable" in headers["Cache-Control"]


def test_access_log_is_json_without_tokens(production):
    token = "s3cr3t-status-token-value"
    get(f"{production['url']}/refund/status/{token}/nope/")

    deadline = time.monotonic() + 5
    entries: list[dict] = []
    while not entries and time.monotonic() < deadline:
        lines = production["log"].read_text().splitlines()
        records = [json.loads(line) for line in lines if line.startswith("{")]
        entries = [
            record
            for record in records
            if record.get("event") == "request_served"
            and record["path"].startswith("/refund/status/")
        ]
        time.sleep(0.1)

    log_text = production["log"].read_text()
    assert entries, log_text
    entry = entries[0]
    assert entry["logger"] == "gunicorn.access"
    assert entry["status"] == 404
    assert entry["method"] == "GET"
    assert entry["path"] == "/refund/status/[redacted]/nope/"
    assert isinstance(entry["duration_ms"], int)
    assert token not in log_text


def test_sigterm_stops_gracefully(production):
    server = production["server"]

    server.send_signal(signal.SIGTERM)
    code = server.wait(timeout=15)

    assert code == 0
    assert "Shutting down: Master" in production["log"].read_text()
