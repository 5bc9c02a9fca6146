"""Every write to refunds: request, approve, reject, mark refunded.

Money rules hold inside the database transaction: each function locks the
order row first, so two requests or approvals on one order run one after the
other, and reads what the other committed. Database check constraints on the
order and its lines back this up.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from agents.models import Agent, Team
from cases.audit import Actor, record_event
from cases.models import Order, OrderLine, SupportCase
from cases.services import case_create
from refunds import selectors
from refunds.eligibility import Decision, evaluate
from refunds.models import RefundLine, RefundRequest
from supportdesk.errors import DomainError, PermissionDenied, StateConflict
from supportdesk.money import Money, to_minor

logger = logging.getLogger(__name__)

MAX_REASON_LENGTH = 2000


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
    policy = selectors.active_policy()
    now = now or timezone.now()
    return evaluate(
        order=order,
        lines=selectors.order_lines(order),
        selection=selection,
        policy=policy,
        now=now,
        history=selectors.customer_history(order.customer, policy, now),
        open_requested_minor=selectors.open_requested_minor(order),
        shipping_already_requested=selectors.shipping_requested(order),
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

    With a ``submission_key`` already used, returns the request it created,
    so a double click or a resubmitted form files one request. Raises
    NotEligible when a rule rejects the request; nothing is stored then.
    A request that every rule passes and that is within the automatic limit
    is approved at once.
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
    try:
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=order.pk)
            if submission_key:
                existing = RefundRequest.objects.filter(
                    submission_key=submission_key
                ).first()
                if existing is not None:
                    return existing
            refund = _create_locked(
                order,
                selection,
                reason_code,
                reason_text,
                actor,
                submission_key,
                channel,
            )
    except IntegrityError:
        # A concurrent submission with the same key won the race.
        existing = (
            RefundRequest.objects.filter(submission_key=submission_key).first()
            if submission_key
            else None
        )
        if existing is None:
            raise
        return existing
    if refund.outcome == RefundRequest.Outcome.AUTO_APPROVE:
        refund = refund_approve(
            refund=refund,
            actor=Actor.system("Automatic approval"),
            reason="Every eligibility rule passed and the amount is within the "
            "automatic limit.",
        )
    return refund


def _create_locked(
    order, selection, reason_code, reason_text, actor, submission_key, channel
):
    policy = selectors.active_policy()
    now = timezone.now()
    lines = list(
        OrderLine.objects.select_for_update().filter(order=order).order_by("position")
    )
    decision = evaluate(
        order=order,
        lines=lines,
        selection=selection,
        policy=policy,
        now=now,
        history=selectors.customer_history(order.customer, policy, now),
        open_requested_minor=selectors.open_requested_minor(order),
        shipping_already_requested=selectors.shipping_requested(order),
    )
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


def _first_message(reason_code: str, reason_text: str, decision: Decision) -> str:
    items = "\n".join(
        f"- {item.quantity} × {item.line.name}" for item in decision.lines
    )
    reason = RefundRequest.Reason(reason_code).label
    text = f"Refund requested: {decision.amount}\nReason: {reason}\n\nItems:\n{items}"
    if reason_text:
        text += f"\n\n{reason_text}"
    return text


def approval_level(refund: RefundRequest, amount_minor: int) -> str:
    """Return "supervisor" if the policy needs one for this amount, else "agent"."""
    policy = selectors.active_policy()
    if refund.outcome == RefundRequest.Outcome.NEEDS_SUPERVISOR:
        return "supervisor"
    if refund.currency != policy.currency:
        return "supervisor"
    if amount_minor > to_minor(policy.supervisor_threshold, policy.currency):
        return "supervisor"
    return "agent"


def check_can_approve(actor: Actor, refund: RefundRequest, amount_minor: int) -> None:
    """Raise PermissionDenied unless ``actor`` may approve ``amount_minor``.

    An agent approves up to their own limit, in the policy currency. Above it,
    or when the policy asks for one, a supervisor approves. Four eyes: the
    person who filed the request cannot approve it above their limit.
    """
    if actor.kind == "system":
        return
    agent: Agent | None = actor.agent
    if agent is None:
        raise PermissionDenied("Only agents can decide refunds.")
    amount = Money(amount_minor, refund.currency)
    within_limit = (
        refund.currency == selectors.active_policy().currency
        and amount_minor <= to_minor(agent.approval_limit, refund.currency)
    )
    if refund.requested_by_id == agent.user_id and not within_limit:
        raise PermissionDenied(
            f"You filed this request, so someone else must approve {amount}, which is "
            "above your limit."
        )
    if approval_level(refund, amount_minor) == "supervisor" and not agent.is_supervisor:
        raise PermissionDenied(
            f"A supervisor must approve {amount}. Ask a supervisor to decide."
        )
    if not within_limit and not agent.is_supervisor:
        raise PermissionDenied(
            f"{amount} is above your approval limit of "
            f"{Money(to_minor(agent.approval_limit, refund.currency), refund.currency)}"
            if refund.currency == selectors.active_policy().currency
            else f"{amount} is in another currency than your limit. Ask a supervisor."
        )


def refund_approve(
    *,
    refund: RefundRequest,
    actor: Actor,
    amount_minor: int | None = None,
    reason: str = "",
) -> RefundRequest:
    """Approve the request in full, or in part with ``amount_minor``.

    Raises StateConflict if the request was already decided (a second click),
    DomainError if the amount is above the request or above what is left to
    refund on the order, and PermissionDenied above the actor's limit.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=refund.order_id)
        refund = RefundRequest.objects.select_for_update().get(pk=refund.pk)
        if refund.status != RefundRequest.Status.REQUESTED:
            raise _already_decided(refund)
        amount = refund.requested_minor if amount_minor is None else amount_minor
        _check_amount(refund, order, amount)
        check_can_approve(actor, refund, amount)

        Order.objects.filter(pk=order.pk).update(
            refunded_minor=F("refunded_minor") + amount
        )
        refund.status = RefundRequest.Status.APPROVED
        refund.approved_minor = amount
        refund.decided_at = timezone.now()
        refund.decided_by = actor.user
        refund.decision_note = reason.strip()
        refund.save(
            update_fields=[
                "status",
                "approved_minor",
                "decided_at",
                "decided_by",
                "decision_note",
            ]
        )
        record_event(
            action="refunds.refund.approved",
            actor=actor,
            target=refund,
            case=refund.case,
            reason=reason,
            changes={
                "status": [
                    RefundRequest.Status.REQUESTED,
                    RefundRequest.Status.APPROVED,
                ],
                "amount": str(Money(amount, refund.currency)),
                "partial": amount < refund.requested_minor,
            },
        )
    logger.info(
        "Refund %s approved",
        refund.reference,
        extra={
            "refund": refund.reference,
            "amount_minor": amount,
            "currency": refund.currency,
        },
    )
    return refund


def _already_decided(refund: RefundRequest) -> StateConflict:
    status = refund.get_status_display().lower()
    return StateConflict(f"Refund {refund.reference} is already {status}.")


def _check_amount(refund: RefundRequest, order: Order, amount: int) -> None:
    if amount <= 0:
        raise DomainError("The amount must be above zero.", field="amount")
    if amount > refund.requested_minor:
        raise DomainError(
            f"{Money(amount, refund.currency)} is more than the "
            f"{refund.requested} requested. Enter at most the requested amount.",
            field="amount",
        )
    room = order.refundable_minor
    if amount > room:
        raise DomainError(
            f"Only {Money(room, order.currency)} is left to refund on order "
            f"{order.number}. Enter at most that amount.",
            field="amount",
        )


def refund_reject(*, refund: RefundRequest, actor: Actor, reason: str) -> RefundRequest:
    """Reject the request with a reason the customer will read.

    The units it held become refundable again.
    """
    reason = reason.strip()
    if not reason:
        raise DomainError(
            "Give the customer a reason for the rejection.", field="reason"
        )
    if len(reason) > MAX_REASON_LENGTH:
        raise DomainError(
            f"The reason is {len(reason):,} characters long; the maximum is "
            f"{MAX_REASON_LENGTH:,}.",
            field="reason",
        )
    if actor.agent is None:
        raise PermissionDenied("Only agents can decide refunds.")
    with transaction.atomic():
        Order.objects.select_for_update().get(pk=refund.order_id)
        refund = RefundRequest.objects.select_for_update().get(pk=refund.pk)
        if refund.status != RefundRequest.Status.REQUESTED:
            raise _already_decided(refund)
        _release_lines(refund)
        refund.status = RefundRequest.Status.REJECTED
        refund.decided_at = timezone.now()
        refund.decided_by = actor.user
        refund.decision_note = reason
        refund.save(
            update_fields=["status", "decided_at", "decided_by", "decision_note"]
        )
        record_event(
            action="refunds.refund.rejected",
            actor=actor,
            target=refund,
            case=refund.case,
            reason=reason,
            changes={
                "status": [
                    RefundRequest.Status.REQUESTED,
                    RefundRequest.Status.REJECTED,
                ]
            },
        )
    logger.info(
        "Refund %s rejected", refund.reference, extra={"refund": refund.reference}
    )
    return refund


def _release_lines(refund: RefundRequest) -> None:
    for line in refund.lines.all():
        OrderLine.objects.filter(pk=line.order_line_id).update(
            quantity_reserved=F("quantity_reserved") - line.quantity,
            amount_reserved_minor=F("amount_reserved_minor") - line.amount_minor,
        )


def refund_mark_refunded(
    *, refund: RefundRequest, actor: Actor, external_reference: str = ""
) -> RefundRequest:
    """Record that the shop paid the approved amount back to the customer."""
    if actor.agent is None and actor.kind not in ("integration", "system"):
        raise PermissionDenied(
            "Only agents and integrations can mark refunds as refunded."
        )
    external_reference = external_reference.strip()[:200]
    with transaction.atomic():
        refund = RefundRequest.objects.select_for_update().get(pk=refund.pk)
        if refund.status == RefundRequest.Status.REFUNDED:
            if (
                refund.external_reference == external_reference
                or not external_reference
            ):
                return refund  # a retried confirmation
            raise StateConflict(
                f"Refund {refund.reference} was already marked refunded with reference "
                f"{refund.external_reference or '(none)'}."
            )
        if refund.status != RefundRequest.Status.APPROVED:
            raise StateConflict(
                f"Only approved refunds can be marked refunded; {refund.reference} is "
                f"{refund.get_status_display().lower()}."
            )
        refund.status = RefundRequest.Status.REFUNDED
        refund.refunded_at = timezone.now()
        refund.external_reference = external_reference
        refund.save(update_fields=["status", "refunded_at", "external_reference"])
        record_event(
            action="refunds.refund.refunded",
            actor=actor,
            target=refund,
            case=refund.case,
            changes={
                "status": [
                    RefundRequest.Status.APPROVED,
                    RefundRequest.Status.REFUNDED,
                ],
                "external_reference": external_reference,
            },
        )
    logger.info(
        "Refund %s marked refunded",
        refund.reference,
        extra={"refund": refund.reference},
    )
    return refund
