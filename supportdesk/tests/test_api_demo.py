"""The README's API session works on the data that bin/demo loads."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from refunds.models import RefundRequest
from supportdesk.tests.api_support import client_for

pytestmark = pytest.mark.django_db


def test_readme_session_approves_refund():
    call_command("seed_demo", stdout=io.StringIO())
    alex = get_user_model().objects.get(username="alex")
    client = client_for(alex, "supportdesk-demo")

    order = client.get("/api/v1/orders/1411/").json()
    filed = client.post(
        "/api/v1/refunds/",
        {
            "order_number": "#1411",
            "lines": [{"position": 1, "quantity": 1}],
            "reason_code": "damaged",
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="demo-1411-1",
    )
    reference = filed.json()["reference"]
    approved = client.post(
        f"/api/v1/refunds/{reference}/approve/",
        {"amount": "125.40", "currency": "USD"},
        format="json",
    )

    assert order["refundable"] == "125.40"
    assert order["lines"][0]["quantity_refundable"] == 1
    assert filed.status_code == 201
    assert filed.json()["requested_amount"] == "125.40"
    assert approved.status_code == 200, approved.json()
    assert approved.json()["status"] == "approved"
    assert approved.json()["approved_amount"] == "125.40"
    assert RefundRequest.objects.get(pk=int(reference[2:])).approved_minor == 12540
