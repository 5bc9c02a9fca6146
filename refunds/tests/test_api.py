"""The refunds API: filing, deciding and reading refund requests."""

from __future__ import annotations

import pytest

from cases.models import AuditEvent, Order
from refunds.models import RefundRequest
from supportdesk.tests.api_support import client_for, make_order

pytestmark = pytest.mark.django_db


def file_refund(client, order_number="#1001", lines=None, **extra):
    body = {
        "order_number": order_number,
        "lines": lines or [{"position": 1, "quantity": 1}],
        "reason_code": "damaged",
        **extra,
    }
    return client.post("/api/v1/refunds/", body, format="json")


def test_create_refund_returns_trace(agent, policy):
    make_order()
    client = client_for(agent.user)

    response = file_refund(client, reason_text="Box arrived crushed 📦💥")

    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["requested_amount"] == "150.00"
    assert data["currency"] == "USD"
    assert data["status"] == "requested"
    assert data["reason_text"] == "Box arrived crushed 📦💥"
    assert data["lines"] == [
        {"position": 1, "name": "Jacket", "quantity": 1, "amount": "150.00"}
    ]
    assert {entry["rule"] for entry in data["eligibility_trace"]} >= {
        "order_paid",
        "return_window",
    }
    assert response["Location"].endswith(f"/api/v1/refunds/{data['reference']}/")


def test_ineligible_refund_lists_reasons(agent, policy):
    make_order(days_ago=90)
    client = client_for(agent.user)

    response = file_refund(client)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "not_eligible"
    assert problem["type"] == "urn:supportdesk:problem:not_eligible"
    assert any("return window" in reason for reason in problem["reasons"])
    assert RefundRequest.objects.count() == 0


def test_unknown_line_position_is_invalid(agent, policy):
    make_order()
    client = client_for(agent.user)

    response = file_refund(client, lines=[{"position": 9, "quantity": 1}])

    assert response.status_code == 400
    names = [p["name"] for p in response.json()["invalid_params"]]
    assert names == ["lines[0].position"]
    assert RefundRequest.objects.count() == 0


def test_unknown_order_is_invalid(agent, policy):
    client = client_for(agent.user)

    response = file_refund(client, order_number="#404")

    assert response.status_code == 400
    assert response.json()["invalid_params"][0]["name"] == "order_number"


def test_agent_cannot_approve_above_own_limit(make_agent, policy):
    make_order()
    filer = make_agent("Filer", limit="500")
    low = make_agent("Low Limit", limit="100")
    reference = file_refund(client_for(filer.user)).json()["reference"]

    response = client_for(low.user).post(
        f"/api/v1/refunds/{reference}/approve/", {}, format="json"
    )

    assert response.status_code == 403
    assert "above your approval limit" in response.json()["detail"]
    refund = RefundRequest.objects.get()
    assert refund.status == RefundRequest.Status.REQUESTED
    assert refund.approved_minor is None
    assert Order.objects.get().refunded_minor == 0


def test_agent_approves_part_within_limit(make_agent, policy):
    make_order()
    filer = make_agent("Filer", limit="500")
    low = make_agent("Low Limit", limit="100")
    reference = file_refund(client_for(filer.user)).json()["reference"]

    response = client_for(low.user).post(
        f"/api/v1/refunds/{reference}/approve/",
        {"amount": "99.99", "currency": "USD"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["approved_amount"] == "99.99"
    assert response.json()["decided_by"] == low.user.username


def test_filer_cannot_self_approve_above_limit(supervisor, make_agent, policy):
    make_order()
    supervisor.approval_limit = 100
    supervisor.save()
    client = client_for(supervisor.user)
    reference = file_refund(client).json()["reference"]

    response = client.post(f"/api/v1/refunds/{reference}/approve/", {}, format="json")

    assert response.status_code == 403
    assert "another person must approve" in response.json()["detail"]
    assert RefundRequest.objects.get().status == RefundRequest.Status.REQUESTED


@pytest.mark.parametrize(
    ("amount", "minor"),
    [("6.95", 695), ("6,95", None), (6.95, 695), ("2.6", 260), (7, 700)],
)
def test_approve_amount_exact_without_float(agent, make_agent, policy, amount, minor):
    make_order(lines=(("Sticker", 1, "9.55", "STK"),))
    filer = make_agent("Filer")
    reference = file_refund(client_for(filer.user)).json()["reference"]
    body = '{"amount": %s}' % (f'"{amount}"' if isinstance(amount, str) else amount)

    response = client_for(agent.user).post(
        f"/api/v1/refunds/{reference}/approve/",
        body,
        content_type="application/json",
    )

    refund = RefundRequest.objects.get()
    if minor is None:
        assert response.status_code == 400
        assert refund.approved_minor is None
    else:
        assert response.status_code == 200, response.json()
        assert refund.approved_minor == minor


def test_approve_rejects_more_decimals_than_currency(agent, make_agent, policy):
    make_order()
    reference = file_refund(client_for(make_agent("Filer").user)).json()["reference"]

    response = client_for(agent.user).post(
        f"/api/v1/refunds/{reference}/approve/", {"amount": "6.951"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["invalid_params"][0]["name"] == "amount"
    assert RefundRequest.objects.get().approved_minor is None


def test_approve_twice_is_conflict(supervisor, make_agent, policy):
    make_order()
    reference = file_refund(client_for(make_agent("Filer").user)).json()["reference"]
    client = client_for(supervisor.user)

    first = client.post(f"/api/v1/refunds/{reference}/approve/", {}, format="json")
    second = client.post(f"/api/v1/refunds/{reference}/approve/", {}, format="json")

    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json()["code"] == "conflict"
    assert Order.objects.get().refunded_minor == 15000
    assert AuditEvent.objects.filter(action="refunds.refund.approved").count() == 1


def test_reject_needs_reason(agent, make_agent, policy):
    make_order()
    reference = file_refund(client_for(make_agent("Filer").user)).json()["reference"]
    client = client_for(agent.user)

    missing = client.post(f"/api/v1/refunds/{reference}/reject/", {}, format="json")
    rejected = client.post(
        f"/api/v1/refunds/{reference}/reject/",
        {"reason": "Remboursement refusé — colis intact"},
        format="json",
    )

    assert missing.status_code == 400
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["decision_note"] == "Remboursement refusé — colis intact"


def test_integration_refund_permissions(integration, supervisor, policy):
    make_order()
    client = client_for(integration)
    reference = file_refund(client).json()["reference"]

    approve = client.post(f"/api/v1/refunds/{reference}/approve/", {}, format="json")
    early = client.post(
        f"/api/v1/refunds/{reference}/mark-refunded/",
        {"external_reference": "re_123"},
        format="json",
    )
    client_for(supervisor.user).post(
        f"/api/v1/refunds/{reference}/approve/", {}, format="json"
    )
    paid = client.post(
        f"/api/v1/refunds/{reference}/mark-refunded/",
        {"external_reference": "re_123"},
        format="json",
    )

    assert approve.status_code == 403
    assert early.status_code == 409
    assert paid.status_code == 200
    assert paid.json()["status"] == "refunded"
    assert paid.json()["external_reference"] == "re_123"
    assert paid.json()["requested_by"] == integration.username


def test_refund_outside_scope_is_404(make_agent, general_team, policy):
    make_order()
    filer = make_agent("Filer")
    outsider = make_agent("Outsider", teams=[general_team])
    reference = file_refund(client_for(filer.user)).json()["reference"]
    client = client_for(outsider.user)

    hidden = client.get(f"/api/v1/refunds/{reference}/")
    unknown = client.get("/api/v1/refunds/R-999999/")
    approve = client.post(f"/api/v1/refunds/{reference}/approve/", {}, format="json")
    listed = client.get("/api/v1/refunds/")

    assert hidden.status_code == 404
    assert hidden.json() == unknown.json()
    assert approve.status_code == 404
    assert listed.json()["results"] == []
    assert RefundRequest.objects.get().status == RefundRequest.Status.REQUESTED


def test_refund_list_filters(supervisor, make_agent, policy):
    make_order("#1001")
    make_order("#1002", email="sam.tester@example.com")
    client = client_for(supervisor.user)
    first = file_refund(client, "#1001").json()["reference"]
    file_refund(client, "#1002")
    client_for(make_agent("Other").user).post(
        f"/api/v1/refunds/{first}/reject/", {"reason": "No."}, format="json"
    )

    by_status = client.get("/api/v1/refunds/", {"status": "rejected"}).json()
    by_order = client.get("/api/v1/refunds/", {"order": "1002"}).json()

    assert [r["reference"] for r in by_status["results"]] == [first]
    assert [r["order"] for r in by_order["results"]] == ["#1002"]


def test_refund_detail_etag_gives_304(supervisor, policy):
    make_order()
    client = client_for(supervisor.user)
    reference = file_refund(client).json()["reference"]

    first = client.get(f"/api/v1/refunds/{reference}/")
    again = client.get(
        f"/api/v1/refunds/{reference}/", HTTP_IF_NONE_MATCH=first["ETag"]
    )
    client.post(
        f"/api/v1/refunds/{reference}/reject/", {"reason": "No."}, format="json"
    )
    changed = client.get(
        f"/api/v1/refunds/{reference}/", HTTP_IF_NONE_MATCH=first["ETag"]
    )

    assert first.status_code == 200
    assert again.status_code == 304
    assert again.content == b""
    assert changed.status_code == 200
    assert changed["ETag"] != first["ETag"]


def test_approve_in_other_currency_is_invalid(agent, make_agent, policy):
    make_order()
    reference = file_refund(client_for(make_agent("Filer").user)).json()["reference"]

    response = client_for(agent.user).post(
        f"/api/v1/refunds/{reference}/approve/",
        {"amount": "10.00", "currency": "EUR"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["invalid_params"][0]["name"] == "currency"
    assert RefundRequest.objects.get().status == RefundRequest.Status.REQUESTED


def test_clean_small_request_is_approved_at_once(integration, policy):
    policy.auto_approve_limit = 50
    policy.save()
    make_order(lines=(("Sticker", 2, "10.00", "STK"),))

    response = file_refund(client_for(integration))

    assert response.status_code == 201
    assert response.json()["status"] == "approved"
    assert response.json()["approved_amount"] == "10.00"
    assert response.json()["outcome"] == "auto_approve"
    assert Order.objects.get().refunded_minor == 1000
