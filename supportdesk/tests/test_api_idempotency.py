"""Idempotency-Key on POST /api/v1/refunds/: one refund per key."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory

from cases.audit import Actor
from cases.models import SupportCase
from cases.services import case_create
from refunds.models import IdempotencyRecord, RefundRequest
from supportdesk.api.idempotency import run_idempotent
from supportdesk.tests.api_support import client_for, make_order

pytestmark = pytest.mark.django_db

BODY = {
    "order_number": "#1001",
    "lines": [{"position": 2, "quantity": 1}],
    "reason_code": "damaged",
}


def post(client, body=BODY, key="key-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post("/api/v1/refunds/", body, format="json", **headers)


def test_same_key_replays_first_response(agent, policy):
    make_order()
    client = client_for(agent.user)

    first = post(client)
    second = post(client)

    assert first.status_code == 201
    assert second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert second["Location"] == first["Location"]
    assert RefundRequest.objects.count() == 1


def test_same_key_other_body_is_422(agent, policy):
    make_order()
    client = client_for(agent.user)
    post(client)

    response = post(client, {**BODY, "reason_code": "wrong_item"})

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert RefundRequest.objects.count() == 1


def test_keys_are_per_user(make_agent, policy):
    make_order()
    first = post(client_for(make_agent("One").user))

    second = post(client_for(make_agent("Two").user))

    assert first.status_code == 201
    assert second.status_code == 201
    assert second.json()["reference"] != first.json()["reference"]


def test_without_key_each_post_files(agent, policy):
    make_order()
    client = client_for(agent.user)

    post(client, key=None)
    post(client, key=None)

    assert RefundRequest.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 0


def test_refusal_is_stored_and_replayed(agent, policy):
    make_order(days_ago=90)
    client = client_for(agent.user)

    first = post(client)
    retried = post(client)

    assert first.status_code == 400
    assert first.json()["code"] == "not_eligible"
    assert retried.status_code == 400
    assert retried["Idempotent-Replayed"] == "true"
    assert retried["Content-Type"] == "application/problem+json"
    assert retried.json() == first.json()
    assert IdempotencyRecord.objects.count() == 1
    assert RefundRequest.objects.count() == 0


def test_invalid_input_stores_nothing(agent, policy):
    make_order()
    client = client_for(agent.user)

    first = post(client, {**BODY, "order_number": "#9999"})
    fixed = post(client)

    assert first.status_code == 400
    assert first.json()["invalid_params"][0]["name"] == "order_number"
    assert fixed.status_code == 201
    assert "Idempotent-Replayed" not in fixed
    assert RefundRequest.objects.count() == 1


def test_invalid_key_is_400(agent, policy):
    make_order()

    response = post(client_for(agent.user), key="x" * 256)

    assert response.status_code == 400
    assert response.json()["invalid_params"][0]["name"] == "Idempotency-Key"
    assert RefundRequest.objects.count() == 0


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_parallel_posts_one_key_one_refund(agent, policy):
    make_order(lines=(("Scarf", 40, "5.00", "SCF-1"),))
    client = client_for(agent.user)
    body = {**BODY, "lines": [{"position": 1, "quantity": 1}]}
    barrier = threading.Barrier(20)
    responses = []

    def send():
        barrier.wait()
        try:
            responses.append(post(client, body, key="parallel"))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(responses) == 20
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["reference"] for r in responses}) == 1
    assert RefundRequest.objects.count() == 1
    assert RefundRequest.objects.get().lines.get().quantity == 1


def test_failed_response_rolls_back_record(agent):
    request = APIRequestFactory().post("/api/v1/refunds/", {}, format="json")
    request = Request(request, parsers=[JSONParser()])
    request.user = agent.user

    response = run_idempotent(
        request, key="k", perform=lambda: Response({"detail": "no"}, status=400)
    )

    assert response.status_code == 400
    assert IdempotencyRecord.objects.count() == 0


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_store_alone_runs_key_once(agent):
    barrier = threading.Barrier(8)
    statuses = []

    def open_case():
        case = case_create(
            actor=Actor.for_agent(agent), subject="Once", channel="api", body="Hi"
        )
        return Response({"reference": case.reference}, status=201)

    def send():
        request = APIRequestFactory().post("/api/v1/cases/", {"a": 1}, format="json")
        request = Request(request, parsers=[JSONParser()])
        request.user = agent.user
        barrier.wait()
        try:
            response = run_idempotent(request, key="store-only", perform=open_case)
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [201] * 8
    assert SupportCase.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1
