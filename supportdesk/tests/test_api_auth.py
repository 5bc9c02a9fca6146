"""JWT auth: rotation, single-use refresh, and revocation of users' tokens."""

from __future__ import annotations

import threading

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from supportdesk.tests.api_support import obtain_tokens

pytestmark = pytest.mark.django_db


def refresh(token: str):
    return APIClient().post(
        "/api/v1/auth/token/refresh/", {"refresh": token}, format="json"
    )


def verify(token: str):
    return APIClient().post(
        "/api/v1/auth/token/verify/", {"token": token}, format="json"
    )


def get_cases(access: str):
    return APIClient().get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Bearer {access}")


def test_token_pair_gives_access(agent):
    tokens = obtain_tokens(agent.user)

    assert get_cases(tokens["access"]).status_code == 200
    assert verify(tokens["access"]).status_code == 200
    agent.user.refresh_from_db()
    assert agent.user.last_login is not None


def test_wrong_password_is_401_problem(agent):
    response = APIClient().post(
        "/api/v1/auth/token/",
        {"username": agent.user.username, "password": "wrong"},
        format="json",
    )

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert "access" not in response.json()


def test_refresh_token_works_once(agent):
    tokens = obtain_tokens(agent.user)

    first = refresh(tokens["refresh"])
    second = refresh(tokens["refresh"])

    assert first.status_code == 200
    assert first.json()["refresh"] != tokens["refresh"]
    assert get_cases(first.json()["access"]).status_code == 200
    assert second.status_code == 401
    assert "access" not in second.json()
    assert verify(tokens["refresh"]).status_code == 401
    assert refresh(first.json()["refresh"]).status_code == 200


def test_access_token_cannot_refresh(agent):
    tokens = obtain_tokens(agent.user)

    assert refresh(tokens["access"]).status_code == 401


def test_deactivated_user_cannot_refresh_or_call(agent):
    tokens = obtain_tokens(agent.user)
    agent.user.is_active = False
    agent.user.save()

    refreshed = refresh(tokens["refresh"])

    assert refreshed.status_code == 401
    assert "access" not in refreshed.json()
    assert get_cases(tokens["access"]).status_code == 401
    assert verify(tokens["refresh"]).status_code == 401
    assert verify(tokens["access"]).status_code == 401


def test_deleted_user_cannot_refresh_or_call(make_agent):
    agent = make_agent("Gone Soon")
    tokens = obtain_tokens(agent.user)
    user = agent.user
    agent.delete()
    user.delete()

    refreshed = refresh(tokens["refresh"])

    assert refreshed.status_code == 401
    assert "access" not in refreshed.json()
    assert get_cases(tokens["access"]).status_code == 401
    assert verify(tokens["refresh"]).status_code == 401


def test_password_change_revokes_earlier_tokens(agent):
    tokens = obtain_tokens(agent.user)
    agent.user.set_password("a-new-password-for-tests")
    agent.user.save()

    refreshed = refresh(tokens["refresh"])

    assert refreshed.status_code == 401
    assert refreshed.json()["code"] == "password_changed"
    assert get_cases(tokens["access"]).status_code == 401
    new = obtain_tokens(agent.user, "a-new-password-for-tests")
    assert get_cases(new["access"]).status_code == 200


def test_removed_agent_profile_loses_access(make_agent):
    agent = make_agent("Former Agent")
    tokens = obtain_tokens(agent.user)
    agent.memberships.all().delete()
    agent.delete()

    assert get_cases(tokens["access"]).status_code == 403
    assert refresh(tokens["refresh"]).status_code == 401


def test_integration_role_gets_tokens(integration):
    tokens = obtain_tokens(integration)

    assert get_cases(tokens["access"]).status_code == 200


@pytest.fixture
def throttle_cache(monkeypatch) -> LocMemCache:
    """Keep throttle counters in a cache of this test's own.

    On Redis, the other pytest-xdist worker flushes the shared database
    before and after each of its tests, which would reset the counters.
    """
    private = LocMemCache("api-throttle-tests", {})
    monkeypatch.setattr(SimpleRateThrottle, "cache", private)
    return private


def test_token_endpoint_throttled_per_ip(agent, settings, throttle_cache):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "token": "3/m"}
    client = APIClient()
    body = {"username": agent.user.username, "password": "wrong"}

    statuses = [
        client.post("/api/v1/auth/token/", body, format="json").status_code
        for _ in range(4)
    ]
    limited = client.post("/api/v1/auth/token/", body, format="json")

    assert statuses == [401, 401, 401, 429]
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    assert limited.json()["code"] == "throttled"


def test_api_throttled_per_user_across_addresses(agent, settings, throttle_cache):
    access = obtain_tokens(agent.user)["access"]
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "user": "2/m"}
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {access}")

    statuses = [
        client.get("/api/v1/cases/", REMOTE_ADDR=f"10.0.0.{n}").status_code
        for n in range(1, 4)
    ]

    assert statuses == [200, 200, 429]


def test_api_throttled_per_ip_across_users(agent, supervisor, settings, throttle_cache):
    clients = [
        APIClient(HTTP_AUTHORIZATION=f"Bearer {obtain_tokens(user)['access']}")
        for user in (agent.user, supervisor.user, agent.user)
    ]
    throttle_cache.clear()  # forget the token requests
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "ip": "2/m"}

    statuses = [client.get("/api/v1/cases/").status_code for client in clients]
    elsewhere = clients[0].get("/api/v1/cases/", REMOTE_ADDR="10.0.0.9")

    assert statuses == [200, 200, 429]
    assert elsewhere.status_code == 200


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_parallel_refresh_with_one_token_rotates_once(agent):
    token = obtain_tokens(agent.user)["refresh"]
    barrier = threading.Barrier(4)
    statuses = []

    def use():
        barrier.wait()
        try:
            statuses.append(refresh(token).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=use) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200, 401, 401, 401]
