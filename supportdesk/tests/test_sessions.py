"""Agents stay logged in when the session cache empties or Redis stalls."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time
from copy import deepcopy

import pytest
import redis
from django.conf import settings
from django.test import Client, override_settings

from conftest import empty_cache

pytestmark = pytest.mark.django_db

CACHED_DB = "django.contrib.sessions.backends.cached_db"


def logged_in_client(agent) -> Client:
    client = Client()
    response = client.post(
        "/login/", {"username": agent.user.username, "password": "pass-for-tests"}
    )
    assert response.status_code == 302
    return client


def cleared_session_cookie(response) -> bool:
    """Return True if ``response`` deletes or empties the session cookie."""
    cookie = response.cookies.get(settings.SESSION_COOKIE_NAME)
    return cookie is not None and (cookie.value == "" or cookie["max-age"] == 0)


def test_session_survives_emptied_cache(agent):
    with override_settings(SESSION_ENGINE=CACHED_DB):
        client = logged_in_client(agent)
        empty_cache()

        response = client.get("/queue/")

    assert response.status_code == 200
    assert not cleared_session_cookie(response)
    assert "Alex Agent" in response.content.decode()


def test_session_in_database_backend(agent):
    client = logged_in_client(agent)

    queue = client.get("/queue/")
    logout = client.post("/logout/")
    after = client.get("/queue/")

    assert queue.status_code == 200
    assert logout.status_code == 302
    assert after.status_code == 302
    assert after["Location"] == "/login/?next=/queue/"


def test_unknown_session_sends_to_login(client, agent):
    client.cookies[settings.SESSION_COOKIE_NAME] = "no-such-session-key"

    response = client.get("/queue/", headers={"HX-Request": "true"})

    assert response["HX-Redirect"] == "/login/?next=/queue/"


# Redis outage: runs only with REDIS_URL (see conftest.py). It pauses a
# redis-server of its own rather than the shared one at REDIS_URL, because
# CLIENT PAUSE stalls every client of a server, including other test runs.

PAUSE_MS = 1500


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def private_redis(tmp_path):
    """Start a redis-server on a free port and return a client for it."""
    url = settings.REDIS_URL
    try:
        redis.Redis.from_url(url, socket_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.fail(f"REDIS_URL={url} is set but Redis is not reachable: {exc}")
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed; install Debian's redis-server.")
    port = free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(tmp_path)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            pytest.fail(f"redis-server on port {port} did not start.")
        yield client
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.redis
def test_redis_pause_keeps_agent_logged_in(agent, private_redis, caplog):
    port = private_redis.connection_pool.connection_kwargs["port"]
    cache = deepcopy(settings.CACHES)
    cache["default"]["LOCATION"] = f"redis://127.0.0.1:{port}/0"
    assert cache["default"]["BACKEND"] == "django_redis.cache.RedisCache"

    with override_settings(SESSION_ENGINE=CACHED_DB, CACHES=cache):
        client = logged_in_client(agent)
        session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
        assert private_redis.keys(f"*{session_key}")
        private_redis.execute_command("CLIENT", "PAUSE", PAUSE_MS, "ALL")
        paused_until = time.monotonic() + PAUSE_MS / 1000
        with caplog.at_level(logging.ERROR, logger=settings.DJANGO_REDIS_LOGGER):
            during = client.get("/queue/")
        still_paused = time.monotonic() < paused_until
        time.sleep(max(0.0, paused_until - time.monotonic()) + 0.1)
        after = client.get("/queue/")

    assert still_paused
    assert during.status_code == 200
    assert "Alex Agent" in during.content.decode()
    assert not cleared_session_cookie(during)
    assert any(
        record.name == settings.DJANGO_REDIS_LOGGER and record.exc_info
        for record in caplog.records
    )
    assert after.status_code == 200
    assert not cleared_session_cookie(after)
    assert client.cookies[settings.SESSION_COOKIE_NAME].value == session_key
