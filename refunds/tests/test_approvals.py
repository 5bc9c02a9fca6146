"""Approvals: agent limits, supervisors, four eyes and the decisions log."""

from decimal import Decimal

import pytest
from django.urls import reverse

from cases.audit import Actor
from cases.models import Order
from refunds.models import RefundDecision, RefundRequest
from refunds.selectors import awaiting_supervisor
from refunds.services import (
    refund_approve,
    refund_cancel,
    refund_change_amount,
    refund_reject,
)
from refunds.tests.factories import make_order, request_refund
from supportdesk.errors import DomainError, PermissionDenied, StateConflict

pytestmark = pytest.mark.django_db


@pytest.fixture
def coat_order(policy):
    return make_order(lines=[("Coat", "150.00", 1, "COAT"), ("Belt", "30.00", 1, "B")])


def as_actor(agent):
    return Actor.for_agent(agent)


def test_agent_approves_within_own_limit(agent, coat_order):
    refund = request_refund(coat_order, {2: 1})

    approved = refund_approve(
        refund=refund, actor=as_actor(agent), reason="Sorry about that."
    )

    assert approved.status == RefundRequest.Status.APPROVED
    assert approved.decided_by == agent.user
    decision = approved.decisions.get()
    assert decision.kind == RefundDecision.Kind.APPROVED
    assert decision.actor_user == agent.user
    assert decision.amount_minor == 3000
    assert decision.reason == "Sorry about that."
    assert decision.level == RefundDecision.Level.AGENT
    assert decision.created_at is not None


def test_agent_cannot_approve_above_own_limit(agent, coat_order):
    refund = request_refund(coat_order, {1: 1})

    with pytest.raises(PermissionDenied, match=r"above your approval limit of \$100"):
        refund_approve(refund=refund, actor=as_actor(agent))

    refund.refresh_from_db()
    assert refund.status == RefundRequest.Status.REQUESTED
    assert Order.objects.get(pk=coat_order.pk).refunded_minor == 0
    assert not RefundDecision.objects.exists()


def test_agent_may_approve_part_within_limit(agent, coat_order):
    refund = request_refund(coat_order, {1: 1})

    approved = refund_approve(refund=refund, actor=as_actor(agent), amount_minor=9000)

    assert approved.approved_minor == 9000
    assert Order.objects.get(pk=coat_order.pk).refunded_minor == 9000


def test_supervisor_approves_above_agent_limit(supervisor, coat_order):
    refund = request_refund(coat_order, {1: 1})

    approved = refund_approve(refund=refund, actor=as_actor(supervisor))

    assert approved.approved_minor == 15000
    assert approved.decisions.get().level == RefundDecision.Level.SUPERVISOR


def test_policy_threshold_needs_supervisor_whatever_agent_limit(
    policy, make_agent, coat_order
):
    policy.supervisor_threshold = Decimal("20")
    policy.save()
    generous = make_agent("Generous Agent", limit="5000")
    refund = request_refund(coat_order, {2: 1})

    with pytest.raises(PermissionDenied, match="A supervisor must approve"):
        refund_approve(refund=refund, actor=as_actor(generous))


def test_requester_cannot_approve_own_request_above_limit(make_agent, coat_order):
    lead = make_agent("Lead Supervisor", supervisor=True, limit="100")
    refund = request_refund(coat_order, {1: 1}, actor=as_actor(lead))

    with pytest.raises(PermissionDenied, match="You filed this request"):
        refund_approve(refund=refund, actor=as_actor(lead))

    refund.refresh_from_db()
    assert refund.status == RefundRequest.Status.REQUESTED


def test_requester_may_approve_own_request_within_limit(agent, coat_order):
    refund = request_refund(coat_order, {2: 1}, actor=as_actor(agent))

    approved = refund_approve(refund=refund, actor=as_actor(agent))

    assert approved.status == RefundRequest.Status.APPROVED


def test_amount_changer_cannot_approve_above_own_limit(
    make_agent, supervisor, coat_order
):
    lead = make_agent("Other Supervisor", supervisor=True, limit="100")
    refund = request_refund(coat_order, {1: 1})
    refund_change_amount(
        refund=refund,
        actor=as_actor(lead),
        amount_minor=12000,
        reason="Kept the hood.",
    )

    with pytest.raises(PermissionDenied, match="You changed the amount"):
        refund_approve(refund=refund, actor=as_actor(lead))
    approved = refund_approve(refund=refund, actor=as_actor(supervisor))

    assert approved.approved_minor == 12000
    kinds = list(approved.decisions.order_by("created_at", "id").values_list("kind"))
    assert kinds == [("amount_changed",), ("approved",)]


def test_amount_change_is_bounded_by_the_items(agent, coat_order):
    refund = request_refund(coat_order, {2: 1})

    with pytest.raises(DomainError, match=r"Enter at most \$30\.00"):
        refund_change_amount(
            refund=refund, actor=as_actor(agent), amount_minor=3001, reason="More."
        )
    with pytest.raises(DomainError, match="reason"):
        refund_change_amount(
            refund=refund, actor=as_actor(agent), amount_minor=2000, reason=" "
        )

    refund.refresh_from_db()
    assert refund.requested_minor == 3000
    assert refund.amount_changed_by is None


def test_second_approval_is_a_conflict(agent, coat_order):
    refund = request_refund(coat_order, {2: 1})
    refund_approve(refund=refund, actor=as_actor(agent))

    with pytest.raises(StateConflict, match="already approved"):
        refund_approve(refund=refund, actor=as_actor(agent))

    assert Order.objects.get(pk=coat_order.pk).refunded_minor == 3000
    assert RefundDecision.objects.count() == 1


def test_rejection_stores_reason_and_frees_units(agent, coat_order):
    refund = request_refund(coat_order, {2: 1})

    rejected = refund_reject(refund=refund, actor=as_actor(agent), reason="Worn.")

    assert rejected.status == RefundRequest.Status.REJECTED
    decision = rejected.decisions.get()
    assert (decision.kind, decision.reason, decision.amount_minor) == (
        "rejected",
        "Worn.",
        None,
    )
    assert coat_order.lines.get(position=2).quantity_reserved == 0


def test_only_supervisor_cancels_approved_refund(agent, supervisor, coat_order):
    refund = refund_approve(
        refund=request_refund(coat_order, {2: 1}), actor=as_actor(agent)
    )

    with pytest.raises(PermissionDenied):
        refund_cancel(refund=refund, actor=as_actor(agent), reason="Failed.")
    cancelled = refund_cancel(
        refund=refund, actor=as_actor(supervisor), reason="Card expired."
    )

    assert cancelled.status == RefundRequest.Status.CANCELLED
    order = Order.objects.get(pk=coat_order.pk)
    assert order.refunded_minor == 0
    assert order.lines.get(position=2).quantity_reserved == 0


def test_awaiting_supervisor_lists_what_needs_one(policy, agent, coat_order):
    policy.supervisor_threshold = Decimal("100")
    policy.save()
    big = request_refund(coat_order, {1: 1})
    small = request_refund(coat_order, {2: 1})

    waiting = set(awaiting_supervisor().values_list("pk", flat=True))

    assert big.pk in waiting
    assert small.pk not in waiting


def test_second_approve_click_gets_409(client, agent, coat_order):
    refund = request_refund(coat_order, {2: 1})
    client.force_login(agent.user)
    url = reverse("refunds:approve", args=[refund.reference])

    first = client.post(
        url, {"amount": "30.00", "reason": ""}, headers={"HX-Request": "true"}
    )
    second = client.post(
        url, {"amount": "30.00", "reason": ""}, headers={"HX-Request": "true"}
    )

    assert first.status_code == 200
    assert first.headers["HX-Trigger"] == "refundDecided"
    assert second.status_code == 409
    assert "already approved" in second.content.decode()
    assert RefundDecision.objects.filter(kind="approved").count() == 1


def test_case_page_shows_limit_error_on_the_form(client, agent, coat_order):
    refund = request_refund(coat_order, {1: 1})
    client.force_login(agent.user)

    response = client.post(
        reverse("refunds:approve", args=[refund.reference]),
        {"amount": "150.00", "reason": ""},
    )

    assert response.status_code == 403
    assert "above your approval limit" in response.content.decode()
    refund.refresh_from_db()
    assert refund.status == RefundRequest.Status.REQUESTED


def test_case_page_changes_amount_and_shows_trace(client, agent, coat_order):
    refund = request_refund(coat_order, {2: 1})
    client.force_login(agent.user)

    response = client.post(
        reverse("refunds:change-amount", args=[refund.reference]),
        {"amount": "25.50", "reason": "Scuffed buckle."},
        follow=True,
    )

    refund.refresh_from_db()
    assert refund.requested_minor == 2550
    page = response.content.decode()
    assert "Eligibility trace" in page
    assert "order_paid" in page
    assert "Scuffed buckle." in page
    assert "You can approve up to $100.00." in page


def test_admin_approvals_list_and_action(client, policy, supervisor, coat_order):
    policy.supervisor_threshold = Decimal("100")
    policy.save()
    refund = request_refund(coat_order, {1: 1})
    client.force_login(supervisor.user)
    url = reverse("admin:refunds_awaitingsupervisor_changelist")

    listing = client.get(url)
    action = client.post(
        url,
        {"action": "approve_in_full", "_selected_action": [refund.pk]},
        follow=True,
    )

    assert listing.status_code == 200
    assert refund.reference in listing.content.decode()
    assert "above the supervisor threshold" in listing.content.decode()
    assert "Approved 1 request." in action.content.decode()
    refund.refresh_from_db()
    assert refund.status == RefundRequest.Status.APPROVED
    assert refund.decisions.get().level == RefundDecision.Level.SUPERVISOR


def test_admin_reject_action_asks_for_a_reason(client, supervisor, coat_order):
    refund = request_refund(coat_order, {2: 1})
    client.force_login(supervisor.user)
    url = reverse("admin:refunds_refundrequest_changelist")
    selected = {"action": "reject_with_reason", "_selected_action": [refund.pk]}

    question = client.post(url, selected)
    empty = client.post(url, {**selected, "apply": "1", "reason": ""})
    done = client.post(url, {**selected, "apply": "1", "reason": "Past use."})

    assert question.status_code == 200
    assert "The customer reads this reason" in question.content.decode()
    assert empty.status_code == 200
    assert "Give a reason." in empty.content.decode()
    assert done.status_code == 302
    refund.refresh_from_db()
    assert refund.status == RefundRequest.Status.REJECTED
    assert refund.decision_note == "Past use."


def test_admin_request_page_renders_trace_and_decisions(client, supervisor, coat_order):
    refund = refund_approve(
        refund=request_refund(coat_order, {2: 1}),
        actor=as_actor(supervisor),
        reason="Goodwill <b>gesture</b>",
    )
    client.force_login(supervisor.user)

    page = client.get(
        reverse("admin:refunds_refundrequest_change", args=[refund.pk])
    ).content.decode()

    assert "<th>Rule</th>" in page
    assert "Goodwill &lt;b&gt;gesture&lt;/b&gt;" in page
    assert "Sam Supervisor" in page
