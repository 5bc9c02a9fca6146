"""Filing refund requests: the live check and the stored request.

Money rules hold inside the database transaction: the request locks the order
row first, so two requests on one order run one after the other and each
reads what the other committed. Database check constraints on the order and
its lines back this up.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from agents.models import Team
from cases.audit import Actor, record_event
from cases.models import Order, OrderLine, SupportCase
from cases.services import case_create
from refunds import selectors
from refunds.eligibility import Decision, evaluate
from refunds.models import RefundAttempt, RefundLine, RefundRequest
from refunds.services.decisions import MAX_REASON_LENGTH, refund_approve
from refunds.services.notifications import notify_customer
from supportdesk.errors import DomainError
from supportdesk.submissions import create_once

logger = logging.getLogger(__name__)


class NotEligible(DomainError):
    """The request breaks an eligibility rule."""

    code = "not_eligible"

    def __init__(self, decision: Decision):
        self.decision = decision
        reasons = decision.customer_reasons or [
            "This request is not eligible for a refund."
        ]
        super().__init__(" ".join(reasons))


def refund_preview(*, order: Order, selection: Mapping[int, int], now=None) -> Decision:
    """Evaluate a request without storing it, for the form's live check."""
    return _evaluate(
        order, selectors.order_lines(order), selection, now or timezone.now()
    )


def _evaluate(order, lines, selection, now) -> Decision:
    """Run the rules with the active policy and the order's stored state."""
    policy = selectors.active_policy()
    return evaluate(
        order=order,
        lines=lines,
        selection=selection,
        policy=policy,
        now=now,
        history=selectors.customer_history(order.customer, policy, now),
        open_requested_minor=selectors.open_requested_minor(order),
        shipping_already_requested=selectors.shipping_requested(order),
        product_types=selectors.product_types_for(lines),
    )


def refund_request_create(
    *,
    order: Order,
    selection: Mapping[int, int],
    reason_code: str,
    reason_text: str,
    actor: Actor,
    submission_key: str | None = None,
    channel: str = SupportCase.Channel.REFUND_FORM,
) -> RefundRequest:
    """File a refund request and open its case in the refunds team's queue.

    With a ``submission_key`` already used on this order, returns the request
    it created (see create_once), so a double click files one request. Raises
    NotEligible when a rule rejects the request; only the declined attempt is
    stored then. A request that every rule passes and that is within the
    automatic limit is approved in the same transaction.
    """
    if reason_code not in RefundRequest.Reason.values:
        raise DomainError("Choose a reason from the list.", field="reason_code")
    reason_text = reason_text.strip()
    if len(reason_text) > MAX_REASON_LENGTH:
        raise DomainError(
            f"The description is {len(reason_text):,} characters long; the maximum is "
            f"{MAX_REASON_LENGTH:,}. Please shorten it.",
            field="reason_text",
        )

    def create() -> RefundRequest:
        locked = Order.objects.select_for_update().get(pk=order.pk)
        refund = _create_locked(
            locked, selection, reason_code, reason_text, actor, submission_key, channel
        )
        if refund.outcome == RefundRequest.Outcome.AUTO_APPROVE:
            return refund_approve(
                refund=refund,
                actor=Actor.system("Automatic approval"),
                reason="Every eligibility rule passed and the amount is within "
                "the automatic limit.",
            )
        notify_customer(refund=refund, event="received")
        return refund

    try:
        with transaction.atomic():
            refund, _ = create_once(
                RefundRequest,
                submission_key,
                create,
                in_scope=lambda existing: existing.order_id == order.pk,
                out_of_scope="This form was already sent for another order. Reload "
                "the page and send it again.",
                lock=lambda: Order.objects.select_for_update().get(pk=order.pk),
            )
    except NotEligible as exc:
        _record_attempt(order, selection, reason_code, exc.decision, refund=None)
        raise
    return refund


def _create_locked(
    order, selection, reason_code, reason_text, actor, submission_key, channel
):
    now = timezone.now()
    lines = list(
        OrderLine.objects.select_for_update().filter(order=order).order_by("position")
    )
    decision = _evaluate(order, lines, selection, now)
    if not decision.is_eligible:
        raise NotEligible(decision)

    team = Team.objects.filter(handles_refunds=True).first()
    case = case_create(
        actor=actor,
        subject=f"Refund request for order {order.number}",
        channel=channel,
        body=_first_message(reason_code, reason_text, decision),
        customer=order.customer,
        order=order,
        team=team,
        priority=SupportCase.Priority.HIGH
        if decision.outcome == RefundRequest.Outcome.NEEDS_SUPERVISOR
        else SupportCase.Priority.NORMAL,
        author_name=order.customer_name or order.email,
    )
    refund = RefundRequest.objects.create(
        order=order,
        case=case,
        customer=order.customer,
        reason_code=reason_code,
        reason_text=reason_text,
        currency=order.currency,
        requested_minor=decision.amount_minor,
        shipping_minor=decision.shipping_minor,
        outcome=decision.outcome,
        eligibility_trace=decision.trace(),
        submission_key=submission_key or None,
        requested_by=actor.user if actor.user is not None else None,
        created_at=now,
    )
    RefundLine.objects.bulk_create(
        RefundLine(
            refund=refund,
            order_line=item.line,
            quantity=item.quantity,
            amount_minor=item.amount_minor,
        )
        for item in decision.lines
    )
    for item in decision.lines:
        OrderLine.objects.filter(pk=item.line.pk).update(
            quantity_reserved=F("quantity_reserved") + item.quantity,
            amount_reserved_minor=F("amount_reserved_minor") + item.amount_minor,
        )
    _record_attempt(order, selection, reason_code, decision, refund=refund)
    record_event(
        action="refunds.refund.requested",
        actor=actor,
        target=refund,
        case=case,
        reason=RefundRequest.Reason(reason_code).label,
        changes={
            "amount": str(decision.amount),
            "outcome": decision.outcome,
            "lines": {
                str(item.line.position): item.quantity for item in decision.lines
            },
        },
    )
    logger.info(
        "Refund %s requested on order %s",
        refund.reference,
        order.number,
        extra={"refund": refund.reference, "outcome": decision.outcome},
    )
    return refund


def _record_attempt(order, selection, reason_code, decision, *, refund) -> None:
    """Store the evaluated submission, so a policy preview can replay it."""
    RefundAttempt.objects.create(
        order=order,
        refund=refund,
        selection={str(line_id): quantity for line_id, quantity in selection.items()},
        reason_code=reason_code,
        outcome=decision.outcome,
        amount_minor=decision.amount_minor,
        currency=decision.currency or order.currency,
        created_at=refund.created_at if refund is not None else timezone.now(),
    )


def _first_message(reason_code: str, reason_text: str, decision: Decision) -> str:
    items = "\n".join(
        f"- {item.quantity} × {item.line.name}" for item in decision.lines
    )
    reason = RefundRequest.Reason(reason_code).label
    text = f"Refund requested: {decision.amount}\nReason: {reason}\n\nItems:\n{items}"
    if reason_text:
        text += f"\n\n{reason_text}"
    return text
