"""The orders and cases API: lookups, filters, writes through the services."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from cases.audit import Actor
from cases.models import AuditEvent, CaseMessage, SupportCase
from cases.services import case_create
from supportdesk.tests.api_support import client_for, make_order

pytestmark = pytest.mark.django_db


def open_case(team=None, subject="Where is my parcel?", body="Hello"):
    return case_create(
        actor=Actor.customer("Jo"),
        subject=subject,
        channel=SupportCase.Channel.EMAIL,
        body=body,
        team=team,
    )


def test_anonymous_request_is_401_problem(client):
    for path in ("/api/v1/orders/", "/api/v1/cases/", "/api/v1/refunds/"):
        response = client.get(path)

        assert response.status_code == 401, path
        assert response["Content-Type"] == "application/problem+json"
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert response.json()["status"] == 401


def test_invalid_token_is_401(client):
    response = client.get("/api/v1/cases/", HTTP_AUTHORIZATION="Bearer not-a-token")

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_order_search_by_number_and_email(agent):
    make_order("#1001", email="Jo.Tester@Example.com")
    make_order("#2001", email="sam@example.com")
    client = client_for(agent.user)

    by_number = client.get("/api/v1/orders/", {"number": "#10"}).json()
    by_email = client.get("/api/v1/orders/", {"email": "jo.tester@example.COM"}).json()

    assert [o["number"] for o in by_number["results"]] == ["#1001"]
    assert [o["number"] for o in by_email["results"]] == ["#1001"]


def test_order_detail_shows_refundable_quantity(agent, policy):
    make_order()
    client = client_for(agent.user)
    client.post(
        "/api/v1/refunds/",
        {
            "order_number": "#1001",
            "lines": [{"position": 2, "quantity": 1}],
            "reason_code": "damaged",
        },
        format="json",
    )

    response = client.get("/api/v1/orders/1001/")

    assert response.status_code == 200
    data = response.json()
    assert data["total"] == "210.00"
    assert data["currency"] == "USD"
    assert [
        (line["position"], line["quantity"], line["quantity_refundable"])
        for line in data["lines"]
    ] == [(1, 1, 1), (2, 2, 1)]
    assert data["lines"][1]["unit_price"] == "30.00"


def test_refundable_leaves_out_pending_requests(agent, supervisor, policy):
    make_order()
    client = client_for(agent.user)
    filed = client.post(
        "/api/v1/refunds/",
        {
            "order_number": "#1001",
            "lines": [{"position": 2, "quantity": 1}],
            "reason_code": "damaged",
        },
        format="json",
    ).json()
    before = client.get("/api/v1/orders/1001/").json()

    client_for(supervisor.user).post(
        f"/api/v1/refunds/{filed['reference']}/reject/",
        {"reason": "Not damaged."},
        format="json",
    )
    after = client.get("/api/v1/orders/1001/").json()
    listed = client.get("/api/v1/orders/", {"number": "1001"}).json()

    assert filed["requested_amount"] == "30.00"
    assert before["paid"] == "210.00"
    assert before["refundable"] == "180.00"
    assert before["lines"][1]["quantity_refundable"] == 1
    assert after["refundable"] == "210.00"
    assert after["lines"][1]["quantity_refundable"] == 2
    assert listed["results"][0]["refundable"] == "210.00"


def test_order_detail_etag_and_unknown(agent):
    make_order()
    client = client_for(agent.user)

    first = client.get("/api/v1/orders/%231001/")
    cached = client.get("/api/v1/orders/1001/", HTTP_IF_NONE_MATCH=first["ETag"])
    unknown = client.get("/api/v1/orders/9999/")

    assert first.status_code == 200
    assert cached.status_code == 304
    assert cached["ETag"] == first["ETag"]
    assert unknown.status_code == 404


def test_case_list_filters_and_cursor(agent, refunds_team):
    cases = [open_case(team=refunds_team, subject=f"Case {n}") for n in range(3)]
    solved = open_case(team=refunds_team, subject="Solved")
    SupportCase.objects.filter(pk=solved.pk).update(status="solved")
    client = client_for(agent.user)

    first_page = client.get("/api/v1/cases/", {"page_size": "2", "status": "open"})
    second_page = client.get(first_page.json()["next"])
    only_solved = client.get("/api/v1/cases/", {"status": "solved"}).json()

    assert first_page.status_code == 200
    seen = [c["reference"] for c in first_page.json()["results"]]
    seen += [c["reference"] for c in second_page.json()["results"]]
    assert sorted(seen) == sorted(case.reference for case in cases)
    assert [c["subject"] for c in only_solved["results"]] == ["Solved"]


def test_case_list_updated_since_and_assignee(agent, refunds_team):
    old = open_case(team=refunds_team, subject="Old")
    SupportCase.objects.filter(pk=old.pk).update(
        updated_at=timezone.now() - timedelta(days=5)
    )
    new = open_case(team=refunds_team, subject="New")
    client = client_for(agent.user)
    client.patch(f"/api/v1/cases/{new.reference}/", {"assignee": "me"}, format="json")
    since = (timezone.now() - timedelta(days=1)).isoformat()

    recent = client.get("/api/v1/cases/", {"updated_since": since}).json()
    mine = client.get("/api/v1/cases/", {"assignee": "me"}).json()
    unassigned = client.get("/api/v1/cases/", {"assignee": "unassigned"}).json()

    assert [c["subject"] for c in recent["results"]] == ["New"]
    assert [c["subject"] for c in mine["results"]] == ["New"]
    assert [c["subject"] for c in unassigned["results"]] == ["Old"]


def test_case_list_rejects_bad_filter_and_cursor(agent):
    client = client_for(agent.user)

    bad_date = client.get("/api/v1/cases/", {"updated_since": "yesterday"})
    bad_cursor = client.get("/api/v1/cases/", {"cursor": "garbage"})

    assert bad_date.status_code == 400
    assert bad_date.json()["invalid_params"][0]["name"] == "updated_since"
    assert bad_cursor.status_code == 400
    assert bad_cursor.json()["invalid_params"][0]["name"] == "cursor"


def test_create_case_keeps_unicode_exact(agent, refunds_team):
    make_order()
    client = client_for(agent.user)
    subject = "Remboursement demandé — colis abîmé, commande #1032"
    body = "Zoë 🚀 Tester: 👨\u200d👩\u200d👧 Box arrived crushed 📦💥"

    response = client.post(
        "/api/v1/cases/",
        {
            "subject": subject,
            "body": body,
            "order_number": "1001",
            "team": "refunds",
            "priority": "high",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["subject"] == subject
    assert data["messages"][0]["body"] == body
    assert data["priority"] == "high"
    assert data["channel"] == "api"
    assert data["order"] == "#1001"
    case = SupportCase.objects.get()
    assert case.subject == subject
    assert case.messages.get().body == body


def test_create_case_stores_nfc(agent):
    decomposed = "demande\u0301"

    response = client_for(agent.user).post(
        "/api/v1/cases/", {"subject": decomposed}, format="json"
    )

    assert response.status_code == 201
    assert SupportCase.objects.get().subject == "demandé"


def test_create_case_rejects_nul_and_lone_surrogate(agent):
    client = client_for(agent.user)

    nul = client.post("/api/v1/cases/", {"subject": "a\x00b"}, format="json")
    surrogate = client.post(
        "/api/v1/cases/",
        '{"subject": "bad \\ud800 half"}',
        content_type="application/json",
    )

    assert nul.status_code == 400
    assert surrogate.status_code == 400
    assert SupportCase.objects.count() == 0


def test_patch_changes_three_fields(agent, refunds_team):
    case = open_case(team=refunds_team)
    client = client_for(agent.user)

    response = client.patch(
        f"/api/v1/cases/{case.reference}/",
        {"status": "pending", "priority": "urgent", "assignee": "me"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["status"] == "pending"
    assert data["priority"] == "urgent"
    assert data["assignee"]["username"] == agent.user.username
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "cases.case.status_changed",
        "cases.case.priority_changed",
        "cases.case.assigned",
    } <= actions


def test_claim_owned_case_names_owner(make_agent, refunds_team):
    case = open_case(team=refunds_team)
    first = make_agent("Ana First")
    second = make_agent("Ben Second")
    client_for(first.user).patch(
        f"/api/v1/cases/{case.reference}/", {"assignee": "me"}, format="json"
    )

    response = client_for(second.user).patch(
        f"/api/v1/cases/{case.reference}/",
        {"assignee": "me", "priority": "urgent"},
        format="json",
    )

    assert response.status_code == 409
    assert "Ana First already has this case" in response.json()["detail"]
    case.refresh_from_db()
    assert case.assignee == first
    assert case.priority == SupportCase.Priority.NORMAL


def test_patch_invalid_transition_is_409(agent, refunds_team):
    case = open_case(team=refunds_team)
    client = client_for(agent.user)
    client.patch(
        f"/api/v1/cases/{case.reference}/", {"status": "solved"}, format="json"
    )
    client.patch(
        f"/api/v1/cases/{case.reference}/", {"status": "closed"}, format="json"
    )

    response = client.patch(
        f"/api/v1/cases/{case.reference}/", {"status": "open"}, format="json"
    )

    assert response.status_code == 409
    assert SupportCase.objects.get().status == "closed"


def test_patch_needs_a_field(agent, refunds_team):
    case = open_case(team=refunds_team)

    response = client_for(agent.user).patch(
        f"/api/v1/cases/{case.reference}/", {}, format="json"
    )

    assert response.status_code == 400


def test_messages_reply_and_note(agent, refunds_team):
    case = open_case(team=refunds_team)
    client = client_for(agent.user)

    reply = client.post(
        f"/api/v1/cases/{case.reference}/messages/",
        {"kind": "reply", "body": "We are on it.", "version": case.version},
        format="json",
    )
    note = client.post(
        f"/api/v1/cases/{case.reference}/messages/",
        {"kind": "note", "body": "Customer called twice."},
        format="json",
    )
    stale = client.post(
        f"/api/v1/cases/{case.reference}/messages/",
        {"kind": "reply", "body": "Old view", "version": case.version},
        format="json",
    )

    assert reply.status_code == 201
    assert reply.json()["kind"] == "reply"
    assert note.status_code == 201
    assert stale.status_code == 409
    assert stale.json()["code"] == "stale"
    assert CaseMessage.objects.filter(case=case).count() == 3


def test_message_reply_sets_status(agent, refunds_team):
    case = open_case(team=refunds_team)
    client = client_for(agent.user)
    url = f"/api/v1/cases/{case.reference}/messages/"

    note = client.post(
        url, {"kind": "note", "body": "x", "status": "pending"}, format="json"
    )
    reply = client.post(
        url,
        {"kind": "reply", "body": "Label sent.", "status": "pending"},
        format="json",
    )

    assert note.status_code == 400
    assert note.json()["invalid_params"][0]["name"] == "status"
    assert reply.status_code == 201
    assert SupportCase.objects.get(pk=case.pk).status == "pending"
    assert CaseMessage.objects.filter(case=case, kind="reply").count() == 1
    event = AuditEvent.objects.get(case=case, action="cases.case.status_changed")
    assert event.reason == "Set with the reply."


def test_message_reply_with_disallowed_status_is_409(agent, refunds_team):
    case = open_case(team=refunds_team)
    client = client_for(agent.user)

    response = client.post(
        f"/api/v1/cases/{case.reference}/messages/",
        {"kind": "reply", "body": "Done", "status": "closed"},
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert not CaseMessage.objects.filter(case=case, kind="reply").exists()
    assert SupportCase.objects.get(pk=case.pk).status == "open"


def test_integration_reads_without_notes(integration, agent, refunds_team):
    case = open_case(team=refunds_team)
    client_for(agent.user).post(
        f"/api/v1/cases/{case.reference}/messages/",
        {"kind": "note", "body": "Internal only"},
        format="json",
    )
    client = client_for(integration)

    detail = client.get(f"/api/v1/cases/{case.reference}/")
    patch = client.patch(
        f"/api/v1/cases/{case.reference}/", {"priority": "high"}, format="json"
    )
    message = client.post(
        f"/api/v1/cases/{case.reference}/messages/",
        {"kind": "reply", "body": "Hi"},
        format="json",
    )

    assert detail.status_code == 200
    assert [m["kind"] for m in detail.json()["messages"]] == ["customer"]
    assert patch.status_code == 403
    assert message.status_code == 403
    assert SupportCase.objects.get().priority == SupportCase.Priority.NORMAL


def test_case_outside_scope_is_404(make_agent, refunds_team, general_team):
    hidden = open_case(team=general_team, subject="Private matter")
    outsider = make_agent("Outsider", teams=[refunds_team])
    client = client_for(outsider.user)

    seen = client.get(f"/api/v1/cases/{hidden.reference}/")
    unknown = client.get("/api/v1/cases/C-999999/")
    patch = client.patch(
        f"/api/v1/cases/{hidden.reference}/", {"assignee": "me"}, format="json"
    )
    listed = client.get("/api/v1/cases/").json()

    assert seen.status_code == 404
    assert seen.content == unknown.content
    assert patch.status_code == 404
    assert listed["results"] == []
    assert SupportCase.objects.get().assignee is None


def test_user_without_role_gets_no_token(db, django_user_model):
    django_user_model.objects.create_user(username="visitor", password="pw-visitor")
    from rest_framework.test import APIClient

    response = APIClient().post(
        "/api/v1/auth/token/",
        {"username": "visitor", "password": "pw-visitor"},
        format="json",
    )

    assert response.status_code == 401


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_parallel_claims_give_one_owner(make_agent, refunds_team):
    case = open_case(team=refunds_team)
    agents = [make_agent(f"Claimer {n}") for n in range(2)]
    clients = [client_for(agent.user) for agent in agents]
    barrier = threading.Barrier(len(clients))
    statuses = []

    def claim(client):
        barrier.wait()
        try:
            response = client.patch(
                f"/api/v1/cases/{case.reference}/", {"assignee": "me"}, format="json"
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200, 409]
    assert SupportCase.objects.get().assignee in agents
    assert AuditEvent.objects.filter(action="cases.case.assigned").count() == 1


def test_take_over_and_unassign(make_agent, refunds_team):
    case = open_case(team=refunds_team)
    owner = make_agent("Ana Owner")
    other = make_agent("Ben Other")
    path = f"/api/v1/cases/{case.reference}/"
    client_for(owner.user).patch(path, {"assignee": "me"}, format="json")
    client = client_for(other.user)

    moved = client.patch(
        path, {"assignee": other.user.username, "take_over": True}, format="json"
    )
    returned = client.patch(path, {"assignee": None}, format="json")

    assert moved.status_code == 200
    assert moved.json()["assignee"]["display_name"] == "Ben Other"
    assert returned.status_code == 200
    assert returned.json()["assignee"] is None
    assert AuditEvent.objects.filter(action="cases.case.unassigned").count() == 1


def test_unknown_assignee_and_team_are_invalid(agent, refunds_team):
    case = open_case(team=refunds_team)
    client = client_for(agent.user)

    assignee = client.patch(
        f"/api/v1/cases/{case.reference}/", {"assignee": "nobody"}, format="json"
    )
    team = client.post("/api/v1/cases/", {"subject": "Hi", "team": "x"}, format="json")

    assert assignee.status_code == 400
    assert assignee.json()["invalid_params"][0]["name"] == "assignee"
    assert team.status_code == 400
    assert team.json()["invalid_params"][0]["name"] == "team"
    assert SupportCase.objects.count() == 1


def test_reopen_solved_and_closed_is_final(agent, refunds_team):
    case = open_case(team=refunds_team)
    client = client_for(agent.user)
    path = f"/api/v1/cases/{case.reference}/"

    client.patch(path, {"status": "solved"}, format="json")
    reopened = client.patch(path, {"status": "open"}, format="json")
    client.patch(path, {"status": "solved"}, format="json")
    client.patch(path, {"status": "closed"}, format="json")
    claim = client.patch(path, {"assignee": "me"}, format="json")
    reply = client.post(
        f"{path}messages/", {"kind": "reply", "body": "Hello?"}, format="json"
    )

    assert reopened.json()["status"] == "open"
    assert reopened.json()["solved_at"] is None
    assert claim.status_code == 409
    assert reply.status_code == 409
    assert SupportCase.objects.get().assignee is None


def test_case_list_by_team_and_priority(supervisor, refunds_team, general_team):
    open_case(team=refunds_team, subject="Refund question")
    urgent = open_case(team=general_team, subject="Urgent general")
    client = client_for(supervisor.user)
    client.patch(
        f"/api/v1/cases/{urgent.reference}/", {"priority": "urgent"}, format="json"
    )

    by_team = client.get("/api/v1/cases/", {"team": "general"}).json()
    by_priority = client.get("/api/v1/cases/", {"priority": "urgent"}).json()
    active = client.get("/api/v1/cases/", {"status": "active"}).json()

    assert [c["subject"] for c in by_team["results"]] == ["Urgent general"]
    assert [c["subject"] for c in by_priority["results"]] == ["Urgent general"]
    assert len(active["results"]) == 2


def test_create_case_in_other_team_returns_it(agent, general_team):
    response = client_for(agent.user).post(
        "/api/v1/cases/", {"subject": "For general", "team": "general"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["team"] == "general"
    assert SupportCase.objects.get().team == general_team
