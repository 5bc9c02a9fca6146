"""The shop's signed confirmation endpoint."""

import json
import time

import pytest
from django.urls import reverse

from cases.audit import Actor
from refunds import webhooks
from refunds.models import (
    ReconciliationFlag,
    RefundDecision,
    RefundRequest,
    WebhookEndpoint,
)
from refunds.services import refund_approve
from refunds.tests.factories import make_order, request_refund

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(db):
    return WebhookEndpoint.objects.create(name="Shop", url="http://127.0.0.1:8390/")


@pytest.fixture
def approved(policy, agent):
    order = make_order()
    return refund_approve(refund=request_refund(order), actor=Actor.for_agent(agent))


def confirm(client, endpoint, body: dict, *, secret=None, timestamp=None):
    raw = json.dumps(body).encode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    return client.post(
        reverse("refunds:hook-confirm", args=[endpoint.pk]),
        raw,
        content_type="application/json",
        headers={
            webhooks.TIMESTAMP_HEADER: str(timestamp),
            webhooks.SIGNATURE_HEADER: webhooks.sign(
                secret or endpoint.secret, timestamp, raw
            ),
        },
    )


def test_signed_confirmation_marks_refund_refunded(client, endpoint, approved):
    body = {
        "refund": approved.reference,
        "status": "refunded",
        "external_reference": "re_123",
    }

    first = confirm(client, endpoint, body)
    again = confirm(client, endpoint, body)

    assert first.status_code == 200
    assert first.json() == {
        "refund": approved.reference,
        "status": "refunded",
        "external_reference": "re_123",
    }
    assert again.status_code == 200
    approved.refresh_from_db()
    assert approved.status == RefundRequest.Status.REFUNDED
    assert approved.external_reference == "re_123"
    decision = approved.decisions.get(kind=RefundDecision.Kind.REFUNDED)
    assert decision.level == RefundDecision.Level.INTEGRATION
    assert decision.actor_name == "Shop endpoint Shop"


def test_confirmation_with_other_reference_conflicts(client, endpoint, approved):
    confirm(client, endpoint, {"refund": approved.reference, "status": "refunded"})
    confirm(
        client,
        endpoint,
        {"refund": approved.reference, "status": "refunded", "external_reference": "a"},
    )

    response = confirm(
        client,
        endpoint,
        {"refund": approved.reference, "status": "refunded", "external_reference": "b"},
    )

    assert response.status_code == 409
    assert response.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("secret", "age", "status"),
    [("wrong-secret", 0, 401), (None, 3600, 401)],
)
def test_unsigned_or_stale_confirmation_is_rejected(
    client, endpoint, approved, secret, age, status
):
    response = confirm(
        client,
        endpoint,
        {"refund": approved.reference, "status": "refunded"},
        secret=secret,
        timestamp=int(time.time()) - age,
    )

    assert response.status_code == status
    assert response.json()["type"] == "urn:supportdesk:problem:invalid_signature"
    approved.refresh_from_db()
    assert approved.status == RefundRequest.Status.APPROVED


def test_inactive_endpoint_is_not_found(client, endpoint, approved):
    endpoint.is_active = False
    endpoint.save()

    response = confirm(
        client, endpoint, {"refund": approved.reference, "status": "refunded"}
    )

    assert response.status_code == 404
    approved.refresh_from_db()
    assert approved.status == RefundRequest.Status.APPROVED


def test_unknown_refund_and_bad_status(client, endpoint, approved):
    unknown = confirm(client, endpoint, {"refund": "R-999999", "status": "refunded"})
    bad = confirm(client, endpoint, {"refund": approved.reference, "status": "done"})
    csrf = client.post(
        reverse("refunds:hook-confirm", args=[endpoint.pk]),
        b"not json",
        content_type="application/json",
    )

    assert unknown.status_code == 404
    assert bad.status_code == 400
    assert bad.json()["invalid_params"][0]["name"] == "status"
    assert csrf.status_code == 401


def test_failed_payout_flags_order(client, endpoint, approved):
    response = confirm(
        client,
        endpoint,
        {
            "refund": approved.reference,
            "status": "failed",
            "reason": "amount_too_large",
        },
    )

    assert response.status_code == 200
    approved.refresh_from_db()
    assert approved.status == RefundRequest.Status.APPROVED
    assert approved.order.refunded_minor == 1000
    flag = ReconciliationFlag.objects.get()
    assert flag.kind == ReconciliationFlag.Kind.SHOP_FAILED
    assert flag.refund == approved
    assert "amount_too_large" in flag.detail
    assert RefundRequest.objects.count() == 1
