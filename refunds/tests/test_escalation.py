"""Sending a refund above the agent's limit to a supervisor, with a recommendation."""

import re

import pytest
from django.urls import reverse

from cases.audit import Actor
from cases.models import AuditEvent
from refunds.models import RefundDecision, RefundRequest
from refunds.selectors import awaiting_supervisor
from refunds.services import refund_approve, refund_escalate
from refunds.tests.factories import make_order, request_refund
from refunds.timeline import public_timeline
from supportdesk.errors import DomainError, StateConflict
from supportdesk.tests.api_support import client_for

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def coat_order(policy):
    return make_order(lines=[("Coat", "150.00", 1, "COAT"), ("Belt", "30.00", 1, "B")])


@pytest.fixture
def coat_refund(coat_order) -> RefundRequest:
    """Request for $150, above Alex Agent's $100 limit and below the $500 threshold."""
    return request_refund(coat_order, {1: 1})


def test_escalate_records_recommendation(agent, coat_refund):
    timeline_before = public_timeline(coat_refund)

    refund_escalate(
        refund=coat_refund,
        actor=Actor.for_agent(agent),
        amount_minor=12000,
        note="Stitching came apart; keep the belt.",
    )

    coat_refund.refresh_from_db()
    assert coat_refund.status == RefundRequest.Status.REQUESTED
    decision = coat_refund.decisions.get()
    assert decision.kind == RefundDecision.Kind.ESCALATED
    assert decision.actor_user == agent.user
    assert decision.amount_minor == 12000
    assert decision.reason == "Stitching came apart; keep the belt."
    event = AuditEvent.objects.get(action="refunds.refund.escalated")
    assert event.actor_user == agent.user
    assert event.reason == "Stitching came apart; keep the belt."
    assert event.changes == {"recommended_amount": "$120.00"}
    assert awaiting_supervisor().filter(pk=coat_refund.pk).exists()
    assert public_timeline(coat_refund) == timeline_before


def test_escalate_within_own_limit_is_rejected(agent, coat_order):
    belt = request_refund(coat_order, {2: 1})

    with pytest.raises(DomainError, match=r"You can approve \$30.00 yourself"):
        refund_escalate(
            refund=belt, actor=Actor.for_agent(agent), amount_minor=3000, note="x"
        )

    assert not RefundDecision.objects.exists()
    assert not awaiting_supervisor().filter(pk=belt.pk).exists()


@pytest.mark.parametrize(
    "amount_minor,note,message",
    [
        (15000, "  ", "Tell the supervisor why"),
        (0, "Fine", "above zero"),
        (15001, "Fine", "more than the"),
    ],
)
def test_escalate_needs_note_and_valid_amount(
    agent, coat_refund, amount_minor, note, message
):
    with pytest.raises(DomainError, match=message):
        refund_escalate(
            refund=coat_refund,
            actor=Actor.for_agent(agent),
            amount_minor=amount_minor,
            note=note,
        )

    assert not RefundDecision.objects.exists()


def test_escalate_twice_or_after_decision_conflicts(agent, supervisor, coat_refund):
    actor = Actor.for_agent(agent)
    refund_escalate(refund=coat_refund, actor=actor, amount_minor=15000, note="Ok")

    with pytest.raises(StateConflict, match="already waits for a supervisor"):
        refund_escalate(refund=coat_refund, actor=actor, amount_minor=15000, note="2")
    refund_approve(refund=coat_refund, actor=Actor.for_agent(supervisor))
    with pytest.raises(StateConflict, match="already approved"):
        refund_escalate(refund=coat_refund, actor=actor, amount_minor=15000, note="3")

    assert coat_refund.decisions.filter(kind="escalated").count() == 1
    assert not awaiting_supervisor().filter(pk=coat_refund.pk).exists()


def test_case_page_offers_escalation_above_limit(agent_client, coat_refund):
    case_url = reverse("cases:detail", args=[coat_refund.case.reference])

    before = agent_client.get(case_url).content.decode()
    response = agent_client.post(
        reverse("refunds:escalate", args=[coat_refund.reference]),
        {"amount": "150.00", "reason": "Clear manufacturing fault."},
        headers=HTMX,
    )

    html = response.content.decode()
    assert ">Send to a supervisor</button>" in before
    assert response.status_code == 200
    assert "Refund sent to a supervisor." in html
    assert "who recommends $150.00" in html
    assert ">Send to a supervisor</button>" not in html
    assert "sent the refund to a supervisor" in html


def test_case_page_hides_escalation_within_limit(agent_client, coat_order):
    belt = request_refund(coat_order, {2: 1})

    html = agent_client.get(
        reverse("cases:detail", args=[belt.case.reference])
    ).content.decode()

    assert ">Send to a supervisor</button>" not in html


def test_escalation_form_errors_are_shown(agent_client, coat_refund):
    response = agent_client.post(
        reverse("refunds:escalate", args=[coat_refund.reference]),
        {"amount": "150.00", "reason": ""},
        headers=HTMX,
    )

    assert response.status_code == 422
    assert "Tell the supervisor why you recommend this." in response.content.decode()
    assert not RefundDecision.objects.exists()


def test_supervisor_lists_show_recommendation(client, agent, supervisor, coat_refund):
    refund_escalate(
        refund=coat_refund,
        actor=Actor.for_agent(agent),
        amount_minor=12000,
        note="Keep the belt.",
    )
    client.force_login(supervisor.user)

    admin = client.get(
        reverse("admin:refunds_awaitingsupervisor_changelist")
    ).content.decode()
    queue = client.get(reverse("cases:queue"), {"view": "refunds"}).content.decode()

    assert "Alex Agent recommends $120.00: <bdi>Keep the belt.</bdi>" in admin
    assert "Sent to a supervisor: Alex Agent recommends $120.00" in queue


def test_api_escalate(agent, coat_order, coat_refund):
    client = client_for(agent.user)
    url = f"/api/v1/refunds/{coat_refund.reference}/escalate/"
    belt = request_refund(coat_order, {2: 1})

    missing = client.post(url, {"amount": "150.00"}, format="json")
    sent = client.post(url, {"amount": "150.00", "note": "Fault."}, format="json")
    again = client.post(url, {"amount": "150.00", "note": "Fault."}, format="json")
    within = client.post(
        f"/api/v1/refunds/{belt.reference}/escalate/",
        {"amount": "30.00", "note": "x"},
        format="json",
    )

    assert missing.status_code == 400
    assert missing.json()["invalid_params"][0]["name"] == "note"
    assert sent.status_code == 200
    assert sent.json()["status"] == "requested"
    assert again.status_code == 409
    assert again["Content-Type"] == "application/problem+json"
    assert within.status_code == 400
    assert within.json()["invalid_params"][0]["name"] == "amount"


def test_api_escalate_is_in_schema(client):
    schema = client.get("/api/v1/schema/", {"format": "json"}).json()

    operation = schema["paths"]["/api/v1/refunds/{reference}/escalate/"]["post"]
    assert operation["summary"].startswith("Send a refund to a supervisor")


def _post_action(client, action: str, refund, **extra):
    return client.post(
        reverse("admin:refunds_awaitingsupervisor_changelist"),
        {"action": action, "_selected_action": [refund.pk], **extra},
        follow=True,
    )


@pytest.fixture
def escalated(agent, coat_refund) -> RefundRequest:
    return refund_escalate(
        refund=coat_refund,
        actor=Actor.for_agent(agent),
        amount_minor=12000,
        note="Keep the belt.",
    )


def test_supervisor_list_explains_escalation(client, supervisor, escalated):
    client.force_login(supervisor.user)

    html = client.get(
        reverse("admin:refunds_awaitingsupervisor_changelist")
    ).content.decode()

    assert (
        "Alex Agent (approval limit $100.00) sent it to a supervisor and "
        "recommends $120.00." in html
    )
    assert "automatic approval" not in html
    case_url = reverse("cases:detail", args=[escalated.case.reference])
    assert f'<a class="nowrap" href="{case_url}">{escalated.case.reference}</a>' in html


def test_supervisor_list_explains_threshold(client, supervisor, policy):
    order = make_order(lines=[("Sofa", "600.00", 1, "SOFA")])
    request_refund(order, {1: 1})
    client.force_login(supervisor.user)

    html = client.get(
        reverse("admin:refunds_awaitingsupervisor_changelist")
    ).content.decode()

    assert html.count("$600.00 is above the supervisor threshold of $500.00.") == 1


def test_admin_approves_recommended_amount(client, supervisor, escalated):
    client.force_login(supervisor.user)

    response = _post_action(client, "approve_recommended", escalated)

    assert "Approved 1 request at the agent&#x27;s amount." in response.content.decode()
    escalated.refresh_from_db()
    assert escalated.status == RefundRequest.Status.APPROVED
    assert escalated.approved_minor == 12000
    decision = escalated.decisions.get(kind=RefundDecision.Kind.APPROVED)
    assert decision.actor_user == supervisor.user
    assert decision.amount_minor == 12000
    assert decision.reason == "Approved $120.00 as Alex Agent recommended."
    event = AuditEvent.objects.get(action="refunds.refund.approved")
    assert event.actor_name == "Sam Supervisor"
    assert event.reason == "Approved $120.00 as Alex Agent recommended."


def test_admin_approve_keeps_four_eyes(client, make_agent, agent, coat_order):
    filer = make_agent("Sue Supervisor", supervisor=True, limit="100")
    refund = request_refund(coat_order, {1: 1}, actor=Actor.for_agent(filer))
    refund_escalate(
        refund=refund, actor=Actor.for_agent(agent), amount_minor=15000, note="Fair."
    )
    client.force_login(filer.user)

    response = _post_action(client, "approve_recommended", refund)

    assert "You filed this request" in response.content.decode()
    refund.refresh_from_db()
    assert refund.status == RefundRequest.Status.REQUESTED
    assert not refund.decisions.filter(kind=RefundDecision.Kind.APPROVED).exists()


def test_admin_approve_needs_recommendation(client, supervisor, policy):
    order = make_order(lines=[("Sofa", "600.00", 1, "SOFA")])
    refund = request_refund(order, {1: 1})
    client.force_login(supervisor.user)

    response = _post_action(client, "approve_recommended", refund)

    assert "No agent recommended an amount." in response.content.decode()
    refund.refresh_from_db()
    assert refund.status == RefundRequest.Status.REQUESTED


def test_admin_rejects_escalated_with_reason(client, supervisor, escalated):
    client.force_login(supervisor.user)

    asked = _post_action(client, "reject_with_reason", escalated)
    missing = _post_action(
        client, "reject_with_reason", escalated, apply="1", reason=""
    )
    done = _post_action(
        client, "reject_with_reason", escalated, apply="1", reason="Worn before."
    )

    assert 'name="reason"' in asked.content.decode()
    assert "Give a reason." in missing.content.decode()
    assert "Reject requests: done for 1 item." in done.content.decode()
    escalated.refresh_from_db()
    assert escalated.status == RefundRequest.Status.REJECTED
    decision = escalated.decisions.get(kind=RefundDecision.Kind.REJECTED)
    assert decision.actor_user == supervisor.user
    assert decision.reason == "Worn before."


def test_case_page_starts_at_recommendation(client, supervisor, escalated):
    client.force_login(supervisor.user)

    html = client.get(
        reverse("cases:detail", args=[escalated.case.reference])
    ).content.decode()

    approve_input = re.search(r'<input[^>]*id="id_approve_amount"[^>]*>', html)
    assert approve_input is not None
    assert 'value="120.00"' in approve_input.group()
