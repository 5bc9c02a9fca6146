"""Context of the refund panel on the agents' case page."""

from __future__ import annotations

from agents.models import Agent
from refunds.forms import (
    ApproveForm,
    CancelForm,
    ChangeAmountForm,
    MarkRefundedForm,
    RejectForm,
)
from refunds.models import OutboxMessage, RefundDecision, RefundRequest
from refunds.selectors import active_policy
from refunds.services.decisions import approval_level, approval_limit_minor
from supportdesk.money import Money


def refund_panel_context(
    refund: RefundRequest | None, agent: Agent, bound_forms: dict
) -> dict:
    """Return the panel's forms, approval note, decisions and deliveries.

    ``bound_forms`` maps a form name to a submitted form that failed, so the
    panel shows it again with its errors.
    """
    if refund is None:
        return {"approve_form": None, "reject_form": None, "refunded_form": None}
    amount = refund.requested.amount
    return {
        "refund_conflicts": _hidden_form_errors(refund, bound_forms),
        "approve_form": bound_forms.get("approve")
        or ApproveForm(currency=refund.currency, initial={"amount": amount}),
        "amount_form": bound_forms.get("amount")
        or ChangeAmountForm(currency=refund.currency, initial={"amount": amount}),
        "reject_form": bound_forms.get("reject") or RejectForm(),
        "refunded_form": bound_forms.get("refunded") or MarkRefundedForm(),
        "cancel_form": bound_forms.get("cancel") or CancelForm(),
        "approval_note": approval_note(refund, agent),
        "refund_decisions": list(
            RefundDecision.objects.filter(refund=refund).order_by("created_at", "id")
        ),
        "refund_deliveries": list(
            OutboxMessage.objects.filter(
                refund=refund, channel=OutboxMessage.Channel.WEBHOOK
            )
            .select_related("endpoint")
            .order_by("created_at")
        ),
    }


# The forms the panel shows in each status; the others are hidden.
_FORMS_BY_STATUS: dict[str, set[str]] = {
    RefundRequest.Status.REQUESTED: {"approve", "amount", "reject"},
    RefundRequest.Status.APPROVED: {"refunded", "cancel"},
}


def _hidden_form_errors(refund: RefundRequest, bound_forms: dict) -> list[str]:
    """Return the errors of submitted forms that the refund's status now hides.

    A second click on Approve finds the refund approved. The panel shows the
    new state, and this error explains why nothing happened.
    """
    shown = _FORMS_BY_STATUS.get(refund.status, set())
    return [
        str(error)
        for name, form in bound_forms.items()
        if name not in shown and form.is_bound
        for error in form.non_field_errors()
    ]


def approval_note(refund: RefundRequest, agent: Agent) -> str:
    """Say who may approve the requested amount, for the agent looking at it."""
    if refund.status != RefundRequest.Status.REQUESTED:
        return ""
    policy = active_policy()
    amount = refund.requested
    limit = Money(
        approval_limit_minor(agent.approval_limit, policy.currency), policy.currency
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
