"""The API and the pages apply the same rules and show the same results."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.models import Order, SupportCase
from refunds.models import RefundRequest
from supportdesk.tests.api_support import client_for, make_order

pytestmark = pytest.mark.django_db


def file_refund(user) -> RefundRequest:
    response = client_for(user).post(
        "/api/v1/refunds/",
        {
            "order_number": "#1001",
            "lines": [{"position": 1, "quantity": 1}],
            "reason_code": "damaged",
            "reason_text": "Zip broken — déchirée 🧥",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return RefundRequest.objects.get(pk=int(response.json()["reference"][2:]))


def test_over_limit_approval_refused_by_both(client, make_agent, policy):
    make_order()
    refund = file_refund(make_agent("Filer", limit="500").user)
    low = make_agent("Low Limit", limit="100")
    client.force_login(low.user)

    page = client.post(
        reverse("refunds:approve", args=[refund.reference]),
        {"amount": "150.00", "reason": ""},
    )
    api = client_for(low.user).post(
        f"/api/v1/refunds/{refund.reference}/approve/",
        {"amount": "150.00"},
        format="json",
    )

    assert page.status_code == 403
    assert api.status_code == 403
    refund.refresh_from_db()
    assert refund.status == RefundRequest.Status.REQUESTED
    assert Order.objects.get().refunded_minor == 0


def test_claim_conflict_same_on_page_and_api(client, make_agent, policy):
    make_order()
    refund = file_refund(make_agent("Filer").user)
    owner = make_agent("Ana Owner")
    other = make_agent("Ben Other")
    case = refund.case
    client_for(owner.user).patch(
        f"/api/v1/cases/{case.reference}/", {"assignee": "me"}, format="json"
    )
    client.force_login(other.user)

    page = client.post(reverse("cases:take", args=[case.reference]), {})
    api = client_for(other.user).patch(
        f"/api/v1/cases/{case.reference}/", {"assignee": "me"}, format="json"
    )

    assert page.status_code == 409
    assert "Ana Owner already has this case" in page.content.decode()
    assert api.status_code == 409
    assert "Ana Owner already has this case" in api.json()["detail"]
    assert SupportCase.objects.get(pk=case.pk).assignee == owner


def test_api_refund_appears_in_queue_and_case_page(client, agent, policy):
    make_order()
    refund = file_refund(agent.user)
    client.force_login(agent.user)

    queue = client.get(reverse("cases:queue"))
    page = client.get(reverse("cases:detail", args=[refund.case.reference]))

    assert queue.status_code == 200
    assert "Refund request for order #1001" in queue.content.decode()
    assert page.status_code == 200
    assert refund.reference in page.content.decode()
    assert "Zip broken — déchirée 🧥" in page.content.decode()


def test_customer_sees_api_reply_but_not_note(client, agent, policy):
    make_order()
    refund = file_refund(agent.user)
    api = client_for(agent.user)
    path = f"/api/v1/cases/{refund.case.reference}/messages/"
    api.post(path, {"kind": "reply", "body": "A courier comes Monday."}, format="json")
    api.post(path, {"kind": "note", "body": "Customer seems upset."}, format="json")
    approved = api.post(
        f"/api/v1/refunds/{refund.reference}/approve/",
        {"amount": "90.00"},
        format="json",
    )

    status_page = client.get(reverse("refunds:status", args=[refund.token]))

    html = status_page.content.decode()
    assert status_page.status_code == 200
    assert "A courier comes Monday." in html
    assert "Customer seems upset." not in html
    assert approved.status_code == 200
    assert "Approved: $90.00 of the $150.00 requested" in html
