"""The agent pages through Django's test client: queue, case page, actions."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from cases import tagging
from cases.audit import Actor
from cases.models import AuditEvent, CaseMessage, Customer, Order, SupportCase
from cases.services import case_assign
from cases.tests.factories import make_case
from refunds.models import RefundRequest
from refunds.tests.factories import file_refund, open_cases, recent_order
from supportdesk.bidi_display import show_bidi_controls

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
XSS_NAME = "Zoë <img src=x onerror=alert(1)>"
XSS_TEXT = "</td><script>alert(document.cookie)</script>"


@pytest.fixture
def order(policy, refunds_team):
    return recent_order()


@pytest.fixture
def refund(order):
    return file_refund(order, {"Blue Mug": 2}, reason_text="Both cracked.")


@pytest.fixture
def case(refund):
    return refund.case


def snapshot(case: SupportCase) -> dict:
    """Return what an agent action may change, to show that nothing did."""
    case.refresh_from_db()
    refund = RefundRequest.objects.filter(case=case).first()
    return {
        "case": (case.status, case.priority, case.assignee_id, case.version),
        "messages": list(case.messages.values_list("kind", "body")),
        "events": AuditEvent.objects.filter(case=case).count(),
        "refund": (refund.status, refund.approved_minor) if refund else None,
        "refunded": list(Order.objects.values_list("refunded_minor", flat=True)),
    }


def references(response) -> list[str]:
    return re.findall(r'href="/cases/(C-\d+)/"', response.content.decode())


# Login


@pytest.mark.parametrize("path", ["/queue/", "/cases/C-000001/"])
def test_agent_pages_need_login(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


def test_htmx_without_login_redirects_whole_page(client):
    response = client.get(
        "/queue/?page=2", headers={**HTMX, "HX-Current-URL": "http://testserver/queue/"}
    )

    assert response.status_code == 200
    assert response["HX-Redirect"] == "/login/?next=/queue/%3Fpage%3D2"


def test_htmx_post_without_login_returns_to_page(client, case):
    page = f"http://testserver/cases/{case.reference}/"

    response = client.post(
        reverse("cases:take", args=[case.reference]),
        headers={**HTMX, "HX-Current-URL": page},
    )

    assert response["HX-Redirect"] == f"/login/?next=/cases/{case.reference}/"
    assert snapshot(case)["case"][2] is None


def test_login_lands_on_next_page(client, agent):
    response = client.post(
        "/login/?next=/queue/%3Fpage%3D2",
        {
            "username": "alexagent",
            "password": "pass-for-tests",
            "next": "/queue/?page=2",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/queue/?page=2"


def test_login_rejects_other_host_next(client, agent):
    response = client.post(
        "/login/",
        {
            "username": "alexagent",
            "password": "pass-for-tests",
            "next": "https://evil.example/",
        },
    )

    assert response["Location"] == "/queue/"


def test_user_without_agent_profile_gets_403(client):
    user = get_user_model().objects.create_user("nobody", password="x")
    client.force_login(user)

    response = client.get("/queue/")

    assert response.status_code == 403
    assert "has no agent profile" in response.content.decode()


# Queue


def test_queue_lists_refund_case(agent_client, case):
    response = agent_client.get("/queue/")

    html = response.content.decode()
    assert response.status_code == 200
    assert case.reference in html
    assert "Refund request for order #1001" in html
    assert "1 case" in html


def test_queue_filters(agent_client, agent, make_agent, refunds_team, general_team):
    agent.memberships.create(team=general_team)
    mine, theirs, unassigned, urgent, solved = open_cases(5, refunds_team)
    other = make_agent("Bea Agent")
    actor = Actor.for_agent(agent)
    case_assign(case=mine, actor=actor, assignee=agent)
    case_assign(case=theirs, actor=actor, assignee=other)
    urgent.priority = SupportCase.Priority.URGENT
    urgent.save()
    solved.status = SupportCase.Status.SOLVED
    solved.save()
    (general,) = open_cases(1, general_team)
    cases = {
        "assignee=me": {mine},
        "assignee=unassigned": {unassigned, urgent, general},
        "priority=4": {urgent},
        "status=solved": {solved},
        "status=all": {mine, theirs, unassigned, urgent, solved, general},
        f"team={general_team.pk}": {general},
        "": {mine, theirs, unassigned, urgent, general},
        "status=bogus&priority=abc&assignee=me": {mine},
    }

    for query, expected in cases.items():
        response = agent_client.get(f"/queue/?{query}")
        assert response.status_code == 200, query
        assert set(references(response)) == {c.reference for c in expected}, query


def test_queue_hides_other_teams_cases(agent_client, general_team):
    open_cases(1, general_team)

    response = agent_client.get("/queue/?status=all")

    assert references(response) == []


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("oldest", [0, 1, 2]),
        ("newest", [2, 1, 0]),
        ("priority", [1, 0, 2]),
        ("updated", [0, 2, 1]),
    ],
)
def test_queue_sorting(agent_client, agent, refunds_team, sort, order):
    cases = open_cases(3, refunds_team)
    cases[1].priority = SupportCase.Priority.HIGH
    cases[1].save(update_fields=["priority"])
    case_assign(case=cases[2], actor=Actor.for_agent(agent), assignee=agent)
    case_assign(case=cases[0], actor=Actor.for_agent(agent), assignee=agent)

    response = agent_client.get(f"/queue/?sort={sort}")

    assert references(response) == [cases[i].reference for i in order]


def test_queue_pagination_plain_links(agent_client, refunds_team):
    cases = open_cases(27, refunds_team)

    first = agent_client.get("/queue/?sort=oldest")
    second = agent_client.get("/queue/?sort=oldest&page=2")

    assert references(first) == [c.reference for c in cases[:25]]
    assert references(second) == [c.reference for c in cases[25:]]
    assert 'href="?sort=oldest&amp;page=2"' in first.content.decode()
    assert "Page 2 of 2" in second.content.decode()
    assert "<html" in second.content.decode()


def test_queue_page_out_of_range_shows_last(agent_client, refunds_team):
    open_cases(27, refunds_team)

    for page in ("99", "abc", "-1"):
        response = agent_client.get(f"/queue/?page={page}")
        assert response.status_code == 200, page


def test_queue_htmx_page_is_fragment(agent_client, refunds_team):
    open_cases(27, refunds_team)

    response = agent_client.get("/queue/?page=2", headers=HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="queue-results"')
    assert "<html" not in html
    assert "Page 2 of 2" in html
    assert "HX-Request" in response["Vary"]


def test_queue_history_restore_is_full_page(agent_client, refunds_team):
    open_cases(27, refunds_team)

    response = agent_client.get(
        "/queue/?page=2",
        headers={**HTMX, "HX-History-Restore-Request": "true"},
    )

    html = response.content.decode()
    assert "<html" in html
    assert '<link rel="stylesheet"' in html
    assert "Page 2 of 2" in html
    assert "HX-Request" in response["Vary"]


def test_queue_escapes_customer_text(agent_client, policy, refunds_team):
    order = recent_order(billing_name=XSS_NAME)
    case = file_refund(order, reason_text=XSS_TEXT).case
    case.subject = XSS_TEXT
    case.save()
    open_cases(26, refunds_team)

    for url, headers in [
        ("/queue/?sort=oldest", {}),
        ("/queue/?sort=newest&page=2", HTMX),
    ]:
        html = agent_client.get(url, headers=headers).content.decode()
        assert case.reference in html, url
        assert "<script>alert" not in html, url
        assert "<img src=x" not in html, url
        assert "&lt;/td&gt;&lt;script&gt;" in html, url
        assert "Zoë &lt;img src=x onerror=alert(1)&gt;" in html, url


def test_pages_show_emoji_and_accents(client, supervisor, policy, refunds_team):
    name = "Zoë 🚀 Tester"
    subject = "Remboursement demandé — colis abîmé 📦💥"
    reason = "Box arrived crushed 📦💥 👨‍👩‍👧"
    order = recent_order(billing_name=name)
    refund = file_refund(order, reason_text=reason)
    case = refund.case
    case.subject = subject
    case.save()
    client.force_login(supervisor.user)
    expected = {
        "/queue/": [name, subject],
        f"/cases/{case.reference}/": [name, subject, reason],
        "/admin/cases/supportcase/": [name, subject],
        f"/admin/refunds/refundrequest/{refund.pk}/change/": [name, reason],
        f"/refund/status/{refund.token}/": [reason],
    }

    for url, texts in expected.items():
        html = client.get(url).content.decode()
        for text in texts:
            assert text in html, (url, text)


# Case page


def test_case_page_shows_thread_orders_refunds(agent_client, order, case, refund):
    earlier = recent_order("#0999", "ana.tester@example.com", days_ago=20)
    old_refund = file_refund(earlier, {"Tea Towel": 1}, reason_code="changed_mind")

    response = agent_client.get(f"/cases/{case.reference}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Both cracked." in html
    assert "Customer message" in html
    assert "#1001" in html
    assert "#0999" in html
    assert old_refund.reference in html
    assert refund.reference in html
    assert old_refund.case.reference in html
    assert 'id="approve-button"' in html


def test_case_reference_any_case_redirects(agent_client, case):
    response = agent_client.get(f"/cases/{case.reference.lower()}/")

    assert response.status_code == 302
    assert response["Location"] == f"/cases/{case.reference}/"


@pytest.mark.parametrize("reference", ["C-999999", "X-1", "C-", "C-0", "garbage"])
def test_case_unknown_reference_is_404(agent_client, case, reference):
    assert agent_client.get(f"/cases/{reference}/").status_code == 404


def test_case_of_other_team_is_404(client, make_agent, general_team, case):
    outsider = make_agent("Gus General", teams=[general_team])
    client.force_login(outsider.user)

    page = client.get(f"/cases/{case.reference}/")
    action = client.post(f"/cases/{case.reference}/note/", {"body": "hi"})

    assert page.status_code == 404
    assert action.status_code == 404
    assert case.messages.count() == 1


def test_case_page_escapes_customer_text(agent_client, policy, refunds_team):
    order = recent_order(billing_name=XSS_NAME)
    case = file_refund(order, reason_text=XSS_TEXT).case

    html = agent_client.get(f"/cases/{case.reference}/").content.decode()

    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;/td&gt;&lt;script&gt;alert(document.cookie)&lt;/script&gt;" in html


def test_admin_changelists_escape_customer_text(client, supervisor, policy):
    from agents.models import Team

    team = Team.objects.get(handles_refunds=True)
    order = recent_order(billing_name=XSS_NAME)
    case = file_refund(order, reason_text=XSS_TEXT).case
    case.subject = XSS_TEXT
    case.save()
    assert case.team == team
    client.force_login(supervisor.user)

    for url in (
        "/admin/cases/supportcase/",
        "/admin/cases/order/",
        "/admin/cases/customer/",
        "/admin/refunds/refundrequest/",
        f"/admin/cases/supportcase/{case.pk}/change/",
    ):
        response = client.get(url)
        html = response.content.decode()
        assert response.status_code == 200, url
        assert "<script>alert" not in html, url
        assert "<img src=x" not in html, url


def test_session_cookie_is_http_only(client, agent):
    response = client.post(
        "/login/", {"username": "alexagent", "password": "pass-for-tests"}
    )

    assert response.cookies["sessionid"]["httponly"] is True


# Messages


def test_reply_adds_message_and_status_page_shows_it(agent_client, case, refund):
    response = agent_client.post(
        f"/cases/{case.reference}/reply/",
        {"body": "Sorry! Refund on its way 😊", "version": case.version},
    )

    assert response.status_code == 302
    reply = case.messages.get(kind=CaseMessage.Kind.REPLY)
    assert reply.body == "Sorry! Refund on its way 😊"
    assert reply.author_name == "Alex Agent"
    status = Client().get(f"/refund/status/{refund.token}/").content.decode()
    assert "Sorry! Refund on its way 😊" in status


def test_reply_by_htmx_returns_case_fragment(agent_client, case):
    response = agent_client.post(
        f"/cases/{case.reference}/reply/",
        {"body": "<script>alert(1)</script>"},
        headers=HTMX,
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="case-main"')
    assert response["HX-Trigger"] == "caseUpdated"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html


def test_reply_to_stale_version_held(agent_client, case):
    before = snapshot(case)
    stale = case.version - 1 if case.version > 1 else case.version + 5

    response = agent_client.post(
        f"/cases/{case.reference}/reply/", {"body": "Hi", "version": stale}
    )

    assert response.status_code == 409
    assert "changed while you were working on it" in response.content.decode()
    assert snapshot(case) == before


def test_note_is_internal(agent_client, case, refund):
    response = agent_client.post(
        f"/cases/{case.reference}/note/", {"body": "Check the photos"}
    )

    assert response.status_code == 302
    assert case.messages.get(kind=CaseMessage.Kind.NOTE).body == "Check the photos"
    status = Client().get(f"/refund/status/{refund.token}/").content.decode()
    assert "Check the photos" not in status


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "Write a message before sending."),
        ("   \n ", "Write a message before sending."),
        ("x" * 20_001, "at most 20000 characters"),
    ],
)
@pytest.mark.parametrize("action", ["reply", "note"])
def test_empty_or_huge_message_changes_nothing(
    agent_client, case, action, body, message
):
    before = snapshot(case)

    response = agent_client.post(
        f"/cases/{case.reference}/{action}/", {"body": body}, headers=HTMX
    )

    assert response.status_code == 422
    assert message in response.content.decode()
    assert snapshot(case) == before


# Status, priority, assignment


def test_status_change_and_bad_transition(agent_client, case):
    solved = agent_client.post(f"/cases/{case.reference}/status/", {"status": "solved"})
    closed = agent_client.post(f"/cases/{case.reference}/status/", {"status": "closed"})
    before = snapshot(case)
    reopen = agent_client.post(f"/cases/{case.reference}/status/", {"status": "open"})
    bogus = agent_client.post(f"/cases/{case.reference}/status/", {"status": "bogus"})

    assert solved.status_code == 302
    assert closed.status_code == 302
    assert reopen.status_code == 409
    assert "A closed case cannot become open." in reopen.content.decode()
    assert bogus.status_code == 422
    assert snapshot(case) == before


def test_reply_to_closed_case_rejected(agent_client, agent, case):
    actor = Actor.for_agent(agent)
    from cases.services import case_change_status

    case_change_status(case=case, actor=actor, status="solved")
    case_change_status(case=case, actor=actor, status="closed")
    before = snapshot(case)

    response = agent_client.post(f"/cases/{case.reference}/note/", {"body": "Hi"})

    assert response.status_code == 409
    assert snapshot(case) == before


@pytest.mark.parametrize("priority", ["9", "abc", "", "-1"])
def test_priority_bad_value_changes_nothing(agent_client, case, priority):
    before = snapshot(case)

    response = agent_client.post(
        f"/cases/{case.reference}/priority/", {"priority": priority}
    )

    assert response.status_code == 422
    assert snapshot(case) == before


def test_priority_change(agent_client, case):
    response = agent_client.post(f"/cases/{case.reference}/priority/", {"priority": 4})

    case.refresh_from_db()
    assert response.status_code == 302
    assert case.priority == SupportCase.Priority.URGENT


def test_take_unassigned_case(agent_client, agent, case):
    response = agent_client.post(f"/cases/{case.reference}/take/", headers=HTMX)

    case.refresh_from_db()
    assert response.status_code == 200
    assert case.assignee == agent
    assert "Assignee: Alex Agent" in response.content.decode()


def test_second_claim_gets_409_naming_owner(client, agent, make_agent, case):
    other = make_agent("Bea Agent")
    first, second = Client(), Client()
    first.force_login(agent.user)
    second.force_login(other.user)
    first.post(f"/cases/{case.reference}/take/", headers=HTMX)
    before = snapshot(case)

    response = second.post(f"/cases/{case.reference}/take/", headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 409
    assert "Alex Agent already has this case." in html
    assert "Take over from Alex Agent" in html
    assert snapshot(case) == before
    assert (
        AuditEvent.objects.filter(case=case, action="cases.case.assigned").count() == 1
    )


def test_take_over_replaces_owner(client, agent, make_agent, case):
    other = make_agent("Bea Agent")
    case_assign(case=case, actor=Actor.for_agent(agent), assignee=agent)
    client.force_login(other.user)

    response = client.post(
        f"/cases/{case.reference}/take/", {"take_over": "on", "agent": other.pk}
    )

    case.refresh_from_db()
    assert response.status_code == 302
    assert case.assignee == other
    event = AuditEvent.objects.filter(case=case, action="cases.case.assigned").last()
    assert event.changes["assignee"] == ["Alex Agent", "Bea Agent"]


def test_assign_to_agent_and_back_to_queue(agent_client, make_agent, case):
    other = make_agent("Bea Agent")

    assigned = agent_client.post(
        f"/cases/{case.reference}/assign/", {"agent": other.pk}
    )
    case.refresh_from_db()
    owner = case.assignee
    returned = agent_client.post(f"/cases/{case.reference}/assign/", {"agent": ""})
    case.refresh_from_db()

    assert assigned.status_code == 302
    assert owner == other
    assert returned.status_code == 302
    assert case.assignee is None


def test_assign_owned_case_without_take_over_409(agent_client, agent, make_agent, case):
    other = make_agent("Bea Agent")
    case_assign(case=case, actor=Actor.for_agent(other), assignee=other)
    before = snapshot(case)

    response = agent_client.post(
        f"/cases/{case.reference}/assign/", {"agent": agent.pk}
    )

    assert response.status_code == 409
    assert "Bea Agent already has this case." in response.content.decode()
    assert snapshot(case) == before


@pytest.mark.parametrize("value", ["99999", "abc"])
def test_assign_unknown_agent_changes_nothing(agent_client, case, value):
    before = snapshot(case)

    response = agent_client.post(f"/cases/{case.reference}/assign/", {"agent": value})

    assert response.status_code == 422
    assert snapshot(case) == before


# Refund decisions


def approve(client, refund, amount, **extra):
    return client.post(
        f"/refunds/{refund.reference}/approve/",
        {"amount": amount, "reason": ""},
        **extra,
    )


def test_approve_in_full(agent_client, case, refund, order):
    response = approve(agent_client, refund, "24.00")

    refund.refresh_from_db()
    order.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{case.reference}/"
    assert refund.status == RefundRequest.Status.APPROVED
    assert refund.approved_minor == 2400
    assert order.refunded_minor == 2400
    status = Client().get(f"/refund/status/{refund.token}/").content.decode()
    assert 'badge--approved">Approved<' in status
    assert "Approved: $24.00" in status


def test_approve_in_part_by_htmx(agent_client, refund):
    response = approve(agent_client, refund, "12.5", headers=HTMX)

    refund.refresh_from_db()
    assert response.status_code == 200
    assert response["HX-Trigger"] == "refundDecided"
    assert refund.approved_minor == 1250
    status = Client().get(f"/refund/status/{refund.token}/").content.decode()
    assert "Approved: $12.50 of the $24.00 requested" in status


def test_approve_comma_decimal_read_as_decimal(agent_client, refund):
    response = approve(agent_client, refund, "6,95")

    refund.refresh_from_db()
    assert response.status_code == 302
    assert refund.approved_minor == 695


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("1,000", "is ambiguous"),
        ("abc", "is not an amount"),
        ("", "Enter the amount to refund"),
        ("0", "must be above zero"),
        ("-5", "must be above zero"),
        ("24.01", "is more than the $24.00 requested"),
        ("1.005", "more than 2 decimals"),
        ("NaN", "is not an amount"),
        ("1e30", "is not an amount"),
        ("9" * 20, "is too large"),
        ("9" * 40, "at most 32 characters"),
        ("<script>alert(1)</script>", "is not an amount"),
    ],
)
def test_approve_bad_amount_changes_nothing(
    agent_client, case, refund, amount, message
):
    before = snapshot(case)

    response = approve(agent_client, refund, amount, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 422
    assert message in html
    assert "<script>alert(1)" not in html
    assert snapshot(case) == before


def test_approve_twice_second_is_409(agent_client, case, refund, order):
    approve(agent_client, refund, "24.00")
    before = snapshot(case)

    response = approve(agent_client, refund, "24.00", headers=HTMX)

    assert response.status_code == 409
    assert (
        f"Refund {refund.reference} is already approved." in response.content.decode()
    )
    assert snapshot(case) == before
    order.refresh_from_db()
    assert order.refunded_minor == 2400
    assert AuditEvent.objects.filter(action="refunds.refund.approved").count() == 1


def test_approve_above_agent_limit_shows_reason(client, make_agent, case, refund):
    junior = make_agent("Jo Junior", limit="10")
    client.force_login(junior.user)
    before = snapshot(case)

    response = approve(client, refund, "24.00", headers=HTMX)

    assert response.status_code == 403
    assert "above your approval limit" in response.content.decode()
    assert snapshot(case) == before


def test_reject_with_reason_frees_items(agent_client, case, refund, order):
    response = agent_client.post(
        f"/refunds/{refund.reference}/reject/", {"reason": "Outside policy 🙁"}
    )

    refund.refresh_from_db()
    assert response.status_code == 302
    assert refund.status == RefundRequest.Status.REJECTED
    assert refund.decision_note == "Outside policy 🙁"
    assert order.lines.get(name="Blue Mug").quantity_reserved == 0
    status = Client().get(f"/refund/status/{refund.token}/").content.decode()
    assert "Outside policy 🙁" in status


@pytest.mark.parametrize(
    ("reason", "message"),
    [("", "Give the customer a reason"), ("x" * 10_000, "at most 2000 characters")],
)
def test_reject_bad_reason_changes_nothing(agent_client, case, refund, reason, message):
    before = snapshot(case)

    response = agent_client.post(
        f"/refunds/{refund.reference}/reject/", {"reason": reason}, headers=HTMX
    )

    assert response.status_code == 422
    assert message in response.content.decode()
    assert snapshot(case) == before


def test_reject_after_approve_is_409(agent_client, case, refund):
    approve(agent_client, refund, "24.00")
    before = snapshot(case)

    response = agent_client.post(
        f"/refunds/{refund.reference}/reject/", {"reason": "Changed my mind"}
    )

    assert response.status_code == 409
    assert snapshot(case) == before


def test_mark_refunded_after_approve(agent_client, refund):
    approve(agent_client, refund, "24.00")

    response = agent_client.post(
        f"/refunds/{refund.reference}/mark-refunded/",
        {"external_reference": "re_123 <b>"},
    )

    refund.refresh_from_db()
    assert response.status_code == 302
    assert refund.status == RefundRequest.Status.REFUNDED
    assert refund.external_reference == "re_123 <b>"
    status = Client().get(f"/refund/status/{refund.token}/").content.decode()
    assert "Refunded: $24.00" in status


def test_mark_refunded_before_approve_is_409(agent_client, case, refund):
    before = snapshot(case)

    response = agent_client.post(f"/refunds/{refund.reference}/mark-refunded/", {})

    assert response.status_code == 409
    assert "Only approved refunds can be marked refunded" in response.content.decode()
    assert snapshot(case) == before


@pytest.mark.parametrize("reference", ["R-999999", "nonsense", "R-0"])
def test_decision_on_unknown_refund_is_404(agent_client, refund, reference):
    response = agent_client.post(f"/refunds/{reference}/approve/", {"amount": "1"})

    assert response.status_code == 404


def test_decisions_need_post(agent_client, refund):
    for action in ("approve", "reject", "mark-refunded"):
        response = agent_client.get(f"/refunds/{refund.reference}/{action}/")
        assert response.status_code == 405, action


# htmx and CSRF


def csrf_header(html: str) -> dict:
    """Return the headers that ``hx-headers`` on <body> gives every request."""
    match = re.search(r"<body hx-headers='([^']+)'>", html)
    assert match, "hx-headers is missing from <body>"
    return json.loads(match.group(1))


def test_every_htmx_post_inside_csrf_subtree(agent_client, case):
    html = agent_client.get(f"/cases/{case.reference}/").content.decode()

    body = html[html.index("<body") :]

    assert html.count("hx-post=") == body.count("hx-post=")
    assert html.count("hx-post=") >= 7
    assert list(csrf_header(html)) == ["X-CSRFToken"]


def test_htmx_post_needs_csrf_token(agent, case):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent.user)
    headers = csrf_header(client.get(f"/cases/{case.reference}/").content.decode())
    url = f"/cases/{case.reference}/note/"

    rejected = client.post(url, {"body": "no token"}, headers=HTMX)
    accepted = client.post(url, {"body": "token"}, headers={**HTMX, **headers})

    assert rejected.status_code == 403
    assert rejected["HX-Reswap"] == "none"
    assert "Reload the page" in json.loads(rejected["HX-Trigger"])["showNotice"]
    assert accepted.status_code == 200
    assert list(case.messages.filter(kind="note").values_list("body", flat=True)) == [
        "token"
    ]


def test_public_htmx_post_needs_csrf_token(policy, refunds_team):
    order = recent_order()
    refund = file_refund(order)
    client = Client(enforce_csrf_checks=True)
    page = client.get(f"/refund/status/{refund.token}/").content.decode()
    url = f"/refund/status/{refund.token}/messages/"

    rejected = client.post(url, {"body": "no token"}, headers=HTMX)
    plain = client.post(url, {"body": "no token"})
    key = re.search(r'name="submission_key" value="([^"]+)"', page).group(1)
    accepted = client.post(
        url,
        {"body": "ok", "submission_key": key},
        headers={**HTMX, **csrf_header(page)},
    )

    assert rejected.status_code == 403
    assert plain.status_code == 403
    assert "Action not taken" in plain.content.decode()
    assert accepted.status_code == 200
    assert refund.case.messages.count() == 2


def post_forms(html: str) -> list[str]:
    return re.findall(r"<form\b[^>]*method=\"post\".*?</form>", html, re.S)


def test_every_post_form_works_without_javascript(agent, case):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent.user)
    html = client.get(f"/cases/{case.reference}/").content.decode()
    forms = post_forms(html)

    assert len(forms) >= 9
    for form in forms:
        assert 'name="csrfmiddlewaretoken"' in form, form[:120]
    token_match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', forms[0])
    assert token_match is not None
    token = token_match[1]
    response = client.post(
        f"/cases/{case.reference}/note/",
        {"body": "Plain form", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert case.messages.filter(kind="note", body="Plain form").exists()


def test_case_page_ids_unique(agent_client, case):
    html = agent_client.get(f"/cases/{case.reference}/").content.decode()

    ids = re.findall(r'\bid="([^"]+)"', html)
    labels = re.findall(r'<label for="([^"]+)"', html)

    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert set(labels) <= set(ids)


SPOOF = "\u202etxt.exe 🚀 <script>alert(1)</script>"
SPOOF_HTML = "\u202etxt.exe 🚀 &lt;script&gt;alert(1)&lt;/script&gt;"


def test_bidi_text_is_isolated_on_agent_pages(agent_client, agent, refunds_team):
    customer = Customer.objects.create(key="email:eve@example.test", name=SPOOF)
    case = make_case(refunds_team, customer=customer, body=SPOOF)
    case.subject = SPOOF
    case.save()
    tagging.case_tag_add(case=case, actor=Actor.for_agent(agent), name="\u202egnp")

    queue = agent_client.get(reverse("cases:queue")).content.decode()
    detail = agent_client.get(
        reverse("cases:detail", args=[case.reference])
    ).content.decode()

    for html in (queue, detail):
        assert "<script>alert(1)" not in html
        assert f"<bdi>{SPOOF_HTML}</bdi>" in html
        assert "<bdi>\u202egnp</bdi>" in html
    assert detail.count(f"<bdi>{SPOOF_HTML}</bdi>") >= 3  # subject, name, author
    # The body shows the override as a visible marker instead of applying it.
    body_html = show_bidi_controls(SPOOF)
    assert ">[U+202E]</span>txt.exe" in body_html
    assert f'<div class="message__body" dir="auto">{body_html}</div>' in detail


def test_bidi_text_is_isolated_in_html_emails(refunds_team):
    customer = Customer.objects.create(key="email:eve@example.test", name=SPOOF)
    case = make_case(refunds_team, customer=customer)
    case.subject = SPOOF

    context = {"case": case, "shop_name": "Shop", "ratings": []}
    receipt = render_to_string("mail/case_receipt.html", context)
    survey = render_to_string("mail/survey.html", {**context, "survey": None})

    assert f"Hello <bdi>{SPOOF_HTML}</bdi>," in receipt
    assert f'("<bdi>{SPOOF_HTML}</bdi>")' in survey
    assert "<script>alert(1)" not in receipt + survey


def test_reply_and_solve_by_htmx(agent_client, agent, case):
    response = agent_client.post(
        f"/cases/{case.reference}/reply/",
        {"body": "All sorted.", "version": case.version, "status": "solved"},
        headers=HTMX,
    )

    case.refresh_from_db()
    html = response.content.decode()
    assert response.status_code == 200
    assert case.status == SupportCase.Status.SOLVED
    assert case.messages.filter(kind=CaseMessage.Kind.REPLY).count() == 1
    assert "Reply sent and the case set to solved." in html
    actions = list(
        AuditEvent.objects.filter(case=case, actor_user=agent.user)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["cases.reply.sent", "cases.case.status_changed"]


def test_reply_form_offers_send_and_set_status(agent_client, case):
    html = agent_client.get(f"/cases/{case.reference}/").content.decode()

    assert 'name="status" value="pending"' in html
    assert ">Send and set to pending</button>" in html
    assert ">Send and solve</button>" in html


def test_reply_with_disallowed_status_sends_nothing(agent_client, agent, case):
    case_assign(case=case, actor=Actor.for_agent(agent), assignee=agent)
    case.status = SupportCase.Status.CLOSED
    case.save()

    response = agent_client.post(
        f"/cases/{case.reference}/reply/",
        {"body": "Hello", "status": "pending"},
        headers=HTMX,
    )

    assert response.status_code == 409
    assert not case.messages.filter(kind=CaseMessage.Kind.REPLY).exists()
    assert SupportCase.objects.get(pk=case.pk).status == SupportCase.Status.CLOSED
