"""Agents' refund decisions, taken from the case page."""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpResponse
from django.views.decorators.http import require_POST

from cases.audit import Actor
from cases.selectors import cases_visible_to
from cases.views import AgentRequest, agent_required, answer_case_action
from refunds import services
from refunds.forms import (
    ApproveForm,
    CancelForm,
    ChangeAmountForm,
    EscalateForm,
    MarkRefundedForm,
    RejectForm,
)
from refunds.models import RefundRequest, parse_refund_reference


def _refund_for(request: AgentRequest, reference: str) -> RefundRequest:
    """Return the refund if its case is visible to the agent, else 404."""
    pk = parse_refund_reference(reference)
    refund = (
        RefundRequest.objects.select_related("case", "order")
        .filter(pk=pk, case__in=cases_visible_to(request.agent))
        .first()
        if pk
        else None
    )
    if refund is None:
        raise Http404("No such refund.")
    return refund


def refund_action(
    form_name: str, build_form: Callable, perform: Callable, success: str
):
    """Build the view of one decision on a refund, answered like a case action."""

    @require_POST
    @agent_required
    def view(request: AgentRequest, reference: str) -> HttpResponse:
        refund = _refund_for(request, reference)
        if refund.case is None:
            raise ValueError(
                f"Refund {reference} has no case, but _refund_for() returns only "
                "refunds on a visible case."
            )
        return answer_case_action(
            request,
            refund.case,
            form_name=form_name,
            form=build_form(request.POST, refund),
            perform=lambda data: perform(request, refund, data),
            success=success,
            trigger="refundDecided",
            place="refund",
        )

    return view


approve = refund_action(
    "approve",
    lambda data, refund: ApproveForm(data, currency=refund.currency),
    lambda request, refund, data: services.refund_approve(
        refund=refund,
        actor=Actor.for_user(request.user),
        amount_minor=data["amount"],
        reason=data["reason"],
    ),
    "Refund approved.",
)
reject = refund_action(
    "reject",
    lambda data, refund: RejectForm(data),
    lambda request, refund, data: services.refund_reject(
        refund=refund, actor=Actor.for_user(request.user), reason=data["reason"]
    ),
    "Refund rejected.",
)
mark_refunded = refund_action(
    "refunded",
    lambda data, refund: MarkRefundedForm(data),
    lambda request, refund, data: services.refund_mark_refunded(
        refund=refund,
        actor=Actor.for_user(request.user),
        external_reference=data["external_reference"],
    ),
    "Refund marked as refunded.",
)
change_amount = refund_action(
    "amount",
    lambda data, refund: ChangeAmountForm(data, currency=refund.currency),
    lambda request, refund, data: services.refund_change_amount(
        refund=refund,
        actor=Actor.for_user(request.user),
        amount_minor=data["amount"],
        reason=data["reason"],
    ),
    "Refund amount changed.",
)
cancel = refund_action(
    "cancel",
    lambda data, refund: CancelForm(data),
    lambda request, refund, data: services.refund_cancel(
        refund=refund, actor=Actor.for_user(request.user), reason=data["reason"]
    ),
    "Refund approval cancelled.",
)
escalate = refund_action(
    "escalate",
    lambda data, refund: EscalateForm(data, currency=refund.currency),
    lambda request, refund, data: services.refund_escalate(
        refund=refund,
        actor=Actor.for_user(request.user),
        amount_minor=data["amount"],
        note=data["reason"],
    ),
    "Refund sent to a supervisor.",
)
