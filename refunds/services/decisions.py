"""Decisions on refund requests, and the shop's report on the payout.

Every function locks the order row first and then the request, so decisions
on one order run one after the other and each reads what the previous one
committed. Each adds a RefundDecision row (who, when, amount, reason) and an
audit event, and writes its webhooks and emails to the outbox in the same
transaction, so a decision and its hand-off commit or roll back together.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from cases.audit import Actor, record_event
from cases.models import AuditEvent, Order, OrderLine
from refunds import selectors
from refunds.models import ReconciliationFlag, RefundDecision, RefundRequest
from refunds.services.notifications import notify_customer
from refunds.services.outbox import outbox_write_webhooks
from refunds.services.reconciliation import (
    confirmed_refunds_minor,
    external_refunds_minor,
    flag_raise,
)
from supportdesk.errors import DomainError, PermissionDenied, StateConflict
from supportdesk.money import Money, limit_to_minor

logger = logging.getLogger(__name__)

MAX_REASON_LENGTH = 2000
Level = RefundDecision.Level


def approval_level(refund: RefundRequest, amount_minor: int) -> str:
    """Return "supervisor" if the policy needs one for this amount, else "agent"."""
    policy = selectors.active_policy()
    if refund.outcome == RefundRequest.Outcome.NEEDS_SUPERVISOR:
        return Level.SUPERVISOR
    if refund.currency != policy.currency:
        return Level.SUPERVISOR
    if amount_minor > limit_to_minor(policy.supervisor_threshold, policy.currency):
        return Level.SUPERVISOR
    return Level.AGENT


def check_can_approve(actor: Actor, refund: RefundRequest, amount_minor: int) -> None:
    """Raise PermissionDenied unless ``actor`` may approve ``amount_minor``.

    An agent approves up to their own limit, in the policy currency. Above it,
    or when the policy requires one, a supervisor approves. Four eyes: the
    person who filed the request or last changed its amount cannot approve
    it above their own limit, even a supervisor.
    """
    if actor.kind == AuditEvent.ActorKind.SYSTEM:
        return
    agent = actor.agent
    if agent is None:
        raise PermissionDenied("Only agents can decide refunds.")
    policy = selectors.active_policy()
    amount = Money(amount_minor, refund.currency)
    same_currency = refund.currency == policy.currency
    limit = Money(
        limit_to_minor(agent.approval_limit, policy.currency), policy.currency
    )
    within_limit = same_currency and amount_minor <= limit.minor
    if not within_limit and agent.user_id == refund.requested_by_id:
        raise PermissionDenied(
            f"You filed this request, so another person must approve {amount}, which "
            f"is above your limit of {limit}."
        )
    if not within_limit and agent.user_id == refund.amount_changed_by_id:
        raise PermissionDenied(
            f"You changed the amount of this request, so another person must approve "
            f"{amount}, which is above your limit of {limit}."
        )
    if agent.is_supervisor:
        return
    if approval_level(refund, amount_minor) == Level.SUPERVISOR:
        raise PermissionDenied(
            f"A supervisor must approve {amount}. Ask a supervisor to decide."
        )
    if not within_limit:
        raise PermissionDenied(
            f"{amount} is above your approval limit of {limit}. Ask a supervisor to "
            "approve it."
        )


def refund_approve(
    *,
    refund: RefundRequest,
    actor: Actor,
    amount_minor: int | None = None,
    reason: str = "",
) -> RefundRequest:
    """Approve the request in full, or in part with ``amount_minor``.

    Writes the webhook to the shop and the email to the customer to the
    outbox. Raises StateConflict if the request was already decided (a second
    click), DomainError if the amount is above the request or above what is
    left to refund on the order, and PermissionDenied above the actor's limit.
    """
    reason = _clean_reason(reason, required=False)
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
        refund.decision_note = reason
        refund.save(
            update_fields=[
                "status",
                "approved_minor",
                "decided_at",
                "decided_by",
                "decision_note",
            ]
        )
        _record_decision(refund, RefundDecision.Kind.APPROVED, actor, amount, reason)
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
        outbox_write_webhooks(
            refund=refund,
            event_type="refund.approved",
            data=_webhook_data(refund, order),
        )
        notify_customer(refund=refund, event="approved", reason=reason)
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


def _webhook_data(refund: RefundRequest, order: Order) -> dict:
    """Return the facts the shop needs to pay the refund back."""
    lines = refund.lines.select_related("order_line").order_by("order_line__position")
    return {
        "refund": refund.reference,
        "order": {"number": order.number, "shop_order_id": order.shop_order_id},
        "currency": refund.currency,
        "amount": str(refund.approved.amount) if refund.approved else None,
        "amount_minor": refund.approved_minor,
        "requested_minor": refund.requested_minor,
        "shipping_minor": refund.shipping_minor,
        "reason": refund.reason_code,
        "lines": [
            {
                "position": line.order_line.position,
                "sku": line.order_line.sku,
                "name": line.order_line.name,
                "quantity": line.quantity,
                "amount_minor": line.amount_minor,
            }
            for line in lines
        ],
        "decided_at": refund.decided_at.isoformat() if refund.decided_at else None,
    }


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


def refund_escalate(
    *, refund: RefundRequest, actor: Actor, amount_minor: int, note: str
) -> RefundRequest:
    """Send an undecided request to a supervisor with the agent's recommendation.

    Use it when the agent may not approve ``amount_minor`` (above their
    limit, a supervisor's amount, or the four-eyes rule). The request stays
    awaiting a decision, so nothing changes for the customer, and it joins
    the supervisors' list (``selectors.awaiting_supervisor``). Raises
    DomainError when the actor could approve the amount themselves, and
    StateConflict when the request is decided or already waits for a
    supervisor.
    """
    note = _clean_reason(
        note, required=True, missing="Tell the supervisor why you recommend this."
    )
    if actor.agent is None:
        raise PermissionDenied("Only agents can send refunds to a supervisor.")
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=refund.order_id)
        refund = RefundRequest.objects.select_for_update().get(pk=refund.pk)
        if refund.status != RefundRequest.Status.REQUESTED:
            raise _already_decided(refund)
        if refund.decisions.filter(kind=RefundDecision.Kind.ESCALATED).exists():
            raise StateConflict(
                f"Refund {refund.reference} already waits for a supervisor."
            )
        _check_amount(refund, order, amount_minor)
        amount = Money(amount_minor, refund.currency)
        try:
            check_can_approve(actor, refund, amount_minor)
        except PermissionDenied:
            pass
        else:
            raise DomainError(
                f"You can approve {amount} yourself. Approve the refund instead.",
                field="amount",
            )

        _record_decision(
            refund, RefundDecision.Kind.ESCALATED, actor, amount_minor, note
        )
        record_event(
            action="refunds.refund.escalated",
            actor=actor,
            target=refund,
            case=refund.case,
            reason=note,
            changes={"recommended_amount": str(amount)},
        )
    logger.info(
        "Refund %s sent to a supervisor",
        refund.reference,
        extra={"refund": refund.reference, "amount_minor": amount_minor},
    )
    return refund


def refund_change_amount(
    *, refund: RefundRequest, actor: Actor, amount_minor: int, reason: str
) -> RefundRequest:
    """Change the requested amount of an undecided request, with a reason.

    The new amount must be above zero, at most what the request's items and
    shipping are worth, and at most what the order has left once its other
    undecided requests are counted. The agent who changes it cannot approve
    it above their own limit afterwards.
    """
    reason = _clean_reason(reason, required=True)
    if actor.agent is None:
        raise PermissionDenied("Only agents can change a refund amount.")
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=refund.order_id)
        refund = RefundRequest.objects.select_for_update().get(pk=refund.pk)
        if refund.status != RefundRequest.Status.REQUESTED:
            raise _already_decided(refund)
        worth = sum(line.amount_minor for line in refund.lines.all())
        worth += refund.shipping_minor
        others = selectors.open_requested_minor(order) - refund.requested_minor
        ceiling = min(worth, max(0, order.refundable_minor - others))
        if amount_minor <= 0:
            raise DomainError("The amount must be above zero.", field="amount")
        if amount_minor > ceiling:
            raise DomainError(
                f"{Money(amount_minor, refund.currency)} is more than this request "
                f"can refund. Enter at most {Money(ceiling, refund.currency)}.",
                field="amount",
            )
        old = refund.requested_minor
        if amount_minor == old:
            return refund

        refund.requested_minor = amount_minor
        refund.amount_changed_by = actor.user
        refund.amount_changed_at = timezone.now()
        refund.save(
            update_fields=["requested_minor", "amount_changed_by", "amount_changed_at"]
        )
        _record_decision(
            refund, RefundDecision.Kind.AMOUNT_CHANGED, actor, amount_minor, reason
        )
        record_event(
            action="refunds.refund.amount_changed",
            actor=actor,
            target=refund,
            case=refund.case,
            reason=reason,
            changes={
                "amount": [
                    str(Money(old, refund.currency)),
                    str(Money(amount_minor, refund.currency)),
                ]
            },
        )
    logger.info(
        "Refund %s amount changed",
        refund.reference,
        extra={"refund": refund.reference, "amount_minor": amount_minor},
    )
    return refund


def refund_reject(*, refund: RefundRequest, actor: Actor, reason: str) -> RefundRequest:
    """Reject the request with a reason the customer will read.

    The units it held become refundable again.
    """
    reason = _clean_reason(
        reason,
        required=True,
        missing="Give the customer a reason for the rejection.",
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
        _record_decision(refund, RefundDecision.Kind.REJECTED, actor, None, reason)
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
        notify_customer(refund=refund, event="rejected", reason=reason)
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
    """Record that the shop paid the approved amount back to the customer.

    The same confirmation sent again returns the request unchanged. The
    order's count of refunds made outside Supportdesk is worked out again,
    since the shop's last reported total may have included this payout.
    """
    if actor.agent is None and actor.kind not in (
        AuditEvent.ActorKind.INTEGRATION,
        AuditEvent.ActorKind.SYSTEM,
    ):
        raise PermissionDenied(
            "Only agents and integrations can mark refunds as refunded."
        )
    external_reference = external_reference.strip()[:200]
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=refund.order_id)
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
        external = external_refunds_minor(
            shop_refunded_minor=order.shop_refunded_minor,
            paid_minor=order.paid_minor,
            refunded_minor=order.refunded_minor,
            confirmed_minor=confirmed_refunds_minor(order),
        )
        if external != order.external_refunded_minor:
            Order.objects.filter(pk=order.pk).update(external_refunded_minor=external)
        _record_decision(
            refund,
            RefundDecision.Kind.REFUNDED,
            actor,
            refund.approved_minor,
            external_reference,
        )
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
        notify_customer(refund=refund, event="refunded")
    logger.info(
        "Refund %s marked refunded",
        refund.reference,
        extra={"refund": refund.reference},
    )
    return refund


def refund_record_shop_failure(
    *, refund: RefundRequest, actor: Actor, reason: str
) -> RefundRequest:
    """Record that the shop could not pay an approved refund back.

    The refund stays approved, so its amount still counts as refunded and no
    second refund can use it. A supervisor gets a reconciliation flag with
    the order's figures, to cancel the approval or to have the shop retry.
    """
    reason = _clean_reason(reason, required=True)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=refund.order_id)
        refund = RefundRequest.objects.select_for_update().get(pk=refund.pk)
        if refund.status != RefundRequest.Status.APPROVED:
            raise StateConflict(
                f"Only approved refunds can fail in the shop; {refund.reference} is "
                f"{refund.get_status_display().lower()}."
            )
        _record_decision(
            refund,
            RefundDecision.Kind.SHOP_FAILED,
            actor,
            refund.approved_minor,
            reason,
        )
        flag_raise(
            order=order,
            refund=refund,
            kind=ReconciliationFlag.Kind.SHOP_FAILED,
            shop_refunded_minor=order.shop_refunded_minor,
            expected_minor=confirmed_refunds_minor(order)
            + order.external_refunded_minor,
            detail=f"The shop could not pay back {refund.approved} for "
            f"{refund.reference}: {reason}",
        )
        record_event(
            action="refunds.refund.shop_failed",
            actor=actor,
            target=refund,
            case=refund.case,
            reason=reason,
        )
    logger.warning(
        "Shop reported refund %s as failed",
        refund.reference,
        extra={"refund": refund.reference},
    )
    return refund


def refund_cancel(*, refund: RefundRequest, actor: Actor, reason: str) -> RefundRequest:
    """Cancel an approved refund that the shop has not paid out.

    Only a supervisor can cancel, since it takes back a money decision. The
    approved amount and the units become refundable again, the shop gets a
    ``refund.cancelled`` webhook and the customer an email with the reason.
    """
    reason = _clean_reason(reason, required=True)
    agent = actor.agent
    if agent is None or not agent.is_supervisor:
        raise PermissionDenied("Only a supervisor can cancel an approved refund.")
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=refund.order_id)
        refund = RefundRequest.objects.select_for_update().get(pk=refund.pk)
        if refund.status != RefundRequest.Status.APPROVED:
            raise StateConflict(
                f"Only approved refunds can be cancelled; {refund.reference} is "
                f"{refund.get_status_display().lower()}."
            )
        Order.objects.filter(pk=order.pk).update(
            refunded_minor=F("refunded_minor") - refund.approved_minor
        )
        _release_lines(refund)
        refund.status = RefundRequest.Status.CANCELLED
        refund.save(update_fields=["status"])
        _record_decision(
            refund, RefundDecision.Kind.CANCELLED, actor, refund.approved_minor, reason
        )
        record_event(
            action="refunds.refund.cancelled",
            actor=actor,
            target=refund,
            case=refund.case,
            reason=reason,
            changes={
                "status": [
                    RefundRequest.Status.APPROVED,
                    RefundRequest.Status.CANCELLED,
                ]
            },
        )
        outbox_write_webhooks(
            refund=refund,
            event_type="refund.cancelled",
            data={"refund": refund.reference, "reason": reason},
        )
        notify_customer(refund=refund, event="cancelled", reason=reason)
    logger.info(
        "Refund %s cancelled", refund.reference, extra={"refund": refund.reference}
    )
    return refund


def _clean_reason(
    reason: str, *, required: bool, missing: str = "Give a reason for this decision."
) -> str:
    reason = reason.strip()
    if required and not reason:
        raise DomainError(missing, field="reason")
    if len(reason) > MAX_REASON_LENGTH:
        raise DomainError(
            f"The reason is {len(reason):,} characters long; the maximum is "
            f"{MAX_REASON_LENGTH:,}.",
            field="reason",
        )
    return reason


def _record_decision(refund, kind, actor: Actor, amount_minor, reason) -> None:
    RefundDecision.objects.create(
        refund=refund,
        kind=kind,
        level=_level_of(actor),
        actor_user=actor.user,
        actor_name=actor.name[:200],
        amount_minor=amount_minor,
        currency=refund.currency,
        reason=reason,
    )


def _level_of(actor: Actor) -> str:
    if actor.kind == AuditEvent.ActorKind.SYSTEM:
        return Level.SYSTEM
    if actor.kind == AuditEvent.ActorKind.INTEGRATION:
        return Level.INTEGRATION
    agent = actor.agent
    return (
        Level.SUPERVISOR if agent is not None and agent.is_supervisor else Level.AGENT
    )
