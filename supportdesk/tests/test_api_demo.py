"""The README's API session works on the data that bin/demo loads."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from cases.models import Order
from refunds.models import RefundRequest
from refunds.tests.factories import file_refund
from supportdesk.tests.api_support import client_for

pytestmark = pytest.mark.django_db


def test_readme_session_works_after_walkthrough():
    call_command("seed_demo", stdout=io.StringIO())
    # Step 1 of the README's walkthrough: a refund of order #1411 by the form.
    walkthrough = file_refund(Order.objects.get(number="#1411"))
    alex = get_user_model().objects.get(username="alex")
    client = client_for(alex, "supportdesk-demo")

    order = client.get("/api/v1/orders/1406/").json()
    filed = client.post(
        "/api/v1/refunds/",
        {
            "order_number": "#1406",
            "lines": [{"position": 1, "quantity": 1}],
            "reason_code": "damaged",
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="demo-1406-1",
    )
    reference = filed.json()["reference"]
    approved = client.post(
        f"/api/v1/refunds/{reference}/approve/",
        {"amount": "88.20", "currency": "USD"},
        format="json",
    )

    assert order["refundable"] == "163.80"
    assert [line["quantity_refundable"] for line in order["lines"]] == [1, 1]
    assert filed.status_code == 201, filed.json()
    assert reference != walkthrough.reference
    assert filed.json()["requested_amount"] == "88.20"
    assert approved.status_code == 200, approved.json()
    assert approved.json()["status"] == "approved"
    assert approved.json()["approved_amount"] == "88.20"
    assert RefundRequest.objects.get(pk=int(reference[2:])).approved_minor == 8820
