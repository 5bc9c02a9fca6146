"""Context of the refund panel on the agents' case page."""

from __future__ import annotations

from django.forms import Form

from agents.models import Agent
from cases.audit import Actor
from refunds.forms import (
    ApproveForm,
    CancelForm,
    ChangeAmountForm,
    EscalateForm,
    MarkRefundedForm,
    RejectForm,
)
from refunds.models import OutboxMessage, RefundDecision, RefundRequest
from refunds.selectors import active_policy
from refunds.services.decisions import approval_level, check_can_approve
from supportdesk.errors import PermissionDenied
from supportdesk.money import Money, limit_to_minor


def refund_panel_forms(refund: RefundRequest | None) -> dict[str, Form | None]:
    """Return the panel's empty forms, by name, for the case page to bind ids."""
    if refund is None:
        return {"approve": None, "reject": None, "refunded": None}
    amount = refund.requested.amount
    # The approve form of an escalated request starts at the amount the agent
    # recommended, which the panel shows above it.
    recommended_minor = (
        RefundDecision.objects.filter(refund=refund, kind=RefundDecision.Kind.ESCALATED)
        .order_by("-created_at", "-id")
        .values_list("amount_minor", flat=True)
        .first()
    )
    approve_amount = amount
    if recommended_minor is not None:
        approve_amount = Money(recommended_minor, refund.currency).amount
    return {
        "approve": ApproveForm(
            currency=refund.currency, initial={"amount": approve_amount}
        ),
        "amount": ChangeAmountForm(
            currency=refund.currency, initial={"amount": amount}
        ),
        "reject": RejectForm(),
        "refunded": MarkRefundedForm(),
        "cancel": CancelForm(),
        "escalate": EscalateForm(currency=refund.currency, initial={"amount": amount}),
    }


def refund_panel_context(refund: RefundRequest | None, agent: Agent) -> dict:
    """Return the panel's approval note, decisions and webhook deliveries."""
    if refund is None:
        return {}
    decisions = list(
        RefundDecision.objects.filter(refund=refund).order_by("created_at", "id")
    )
    escalations = [d for d in decisions if d.kind == RefundDecision.Kind.ESCALATED]
    return {
        "approval_note": approval_note(refund, agent),
        "escalation": escalations[-1] if escalations else None,
        "can_escalate": not escalations and _needs_someone_else(refund, agent),
        "refund_decisions": decisions,
        "refund_deliveries": list(
            OutboxMessage.objects.filter(
                refund=refund, channel=OutboxMessage.Channel.WEBHOOK
            )
            .select_related("endpoint")
            .order_by("created_at")
        ),
    }


def approval_note(refund: RefundRequest, agent: Agent) -> str:
    """Say who may approve the requested amount, for the agent looking at it."""
    if refund.status != RefundRequest.Status.REQUESTED:
        return ""
    policy = active_policy()
    amount = refund.requested
    limit = Money(
        limit_to_minor(agent.approval_limit, policy.currency), policy.currency
    )
    within_limit = refund.currency == policy.currency and amount.minor <= limit.minor
    touched = agent.user_id in (refund.requested_by_id, refund.amount_changed_by_id)
    if touched and not within_limit:
        return (
            f"You filed this request or changed its amount, so another person must "
            f"approve {amount}, which is above your limit of {limit}."
        )
    if approval_level(refund, amount.minor) == RefundDecision.Level.SUPERVISOR:
        return f"A supervisor must approve {amount}."
    if not within_limit:
        return f"{amount} is above your limit of {limit}; a supervisor must approve it."
    return f"You can approve up to {limit}."


def _needs_someone_else(refund: RefundRequest, agent: Agent) -> bool:
    """Return True if ``agent`` may not approve the undecided request in full."""
    if refund.status != RefundRequest.Status.REQUESTED:
        return False
    try:
        check_can_approve(Actor.for_agent(agent), refund, refund.requested_minor)
    except PermissionDenied:
        return True
    return False
