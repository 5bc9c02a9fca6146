"""Reconciliation of the shop's refunded totals with Supportdesk's record.

Supportdesk counts two kinds of refunded money on an order: its own approved
refunds (``Order.refunded_minor``) and the money the shop refunded outside it
(``Order.external_refunded_minor``). An import reports the shop's total, which
includes Supportdesk's refunds once the shop paid them out. When that total
differs from what Supportdesk expected, a supervisor gets a flag with both
figures. The refundable remainder always takes the larger view of what was
paid back, so it never counts on money the customer already has.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from cases.audit import Actor, record_event
from cases.models import Order
from refunds.models import ReconciliationFlag, RefundRequest
from supportdesk.errors import DomainError, PermissionDenied, StateConflict
from supportdesk.money import Money

logger = logging.getLogger(__name__)

Kind = ReconciliationFlag.Kind


def confirmed_refunds_minor(order: Order) -> int:
    """Return the Supportdesk refunds the shop confirmed as paid out."""
    total = RefundRequest.objects.filter(
        order=order, status=RefundRequest.Status.REFUNDED
    ).aggregate(total=Sum("approved_minor"))["total"]
    return total or 0


def external_refunds_minor(
    *,
    shop_refunded_minor: int,
    paid_minor: int,
    refunded_minor: int,
    confirmed_minor: int,
) -> int:
    """Return the money the shop refunded outside Supportdesk.

    That is the shop's total less the Supportdesk refunds it confirmed. An
    approved refund that is not confirmed yet is not subtracted, so when the
    shop already paid it, the money counts twice and the remainder is
    smaller, never larger. The result is capped so that it and
    ``refunded_minor`` stay within ``paid_minor``, as the order's check
    constraint requires.
    """
    external = max(0, shop_refunded_minor - confirmed_minor)
    room = max(0, paid_minor - refunded_minor)
    return min(external, room)


def shop_refunds_check(
    *, order: Order, shop_refunded_minor: int, confirmed_minor: int
) -> ReconciliationFlag | None:
    """Flag ``order`` when an import's refunded total is not what Supportdesk expected.

    Supportdesk expects the refunds it confirmed plus what it already knew
    the shop refunded on its own. Call it for an order that was imported
    before, under the order's lock and before its new figures are saved.
    """
    expected = confirmed_minor + order.external_refunded_minor
    if shop_refunded_minor == expected:
        return None
    shop = order.money(shop_refunded_minor)
    awaiting = max(0, order.refunded_minor - confirmed_minor)
    figures = (
        f"The shop reports {shop} refunded on order {order.number}; Supportdesk "
        f"expected {order.money(expected)} ({order.money(confirmed_minor)} paid out "
        f"through Supportdesk and {order.money(order.external_refunded_minor)} "
        "refunded earlier in the shop)."
    )
    if shop_refunded_minor > expected:
        kind = Kind.SHOP_REFUNDED_MORE
        difference = order.money(shop_refunded_minor - expected)
        detail = (
            f"{figures} The difference of {difference} was refunded in the shop's "
            "own admin"
        )
        if awaiting:
            detail += (
                f", or is part of the {order.money(awaiting)} approved here and not "
                "yet confirmed. If the shop paid an approved refund, mark it refunded"
            )
        detail += "."
    else:
        kind = Kind.SHOP_REFUNDED_LESS
        detail = (
            f"{figures} A refund that Supportdesk recorded as paid out may have "
            "failed or been reversed in the shop. Check the payment in the shop."
        )
    return flag_raise(
        order=order,
        refund=None,
        kind=kind,
        shop_refunded_minor=shop_refunded_minor,
        expected_minor=expected,
        detail=detail,
    )


def flag_raise(
    *,
    order: Order,
    refund: RefundRequest | None,
    kind: str,
    shop_refunded_minor: int,
    expected_minor: int,
    detail: str,
) -> ReconciliationFlag | None:
    """Open a flag for a supervisor, or update the open one of the same kind.

    Returns None, and opens nothing, when a supervisor already resolved a
    flag of this kind with the same figures. The caller holds the order's
    lock, so two imports cannot open two flags.
    """
    figures = {
        "shop_refunded_minor": shop_refunded_minor,
        "expected_minor": expected_minor,
        "supportdesk_approved_minor": order.refunded_minor,
    }
    open_flag = ReconciliationFlag.objects.filter(
        order=order, kind=kind, status=ReconciliationFlag.Status.OPEN
    ).first()
    if open_flag is not None:
        if detail not in open_flag.detail:
            open_flag.detail = f"{open_flag.detail}\n{detail}"
        for name, value in figures.items():
            setattr(open_flag, name, value)
        open_flag.refund = open_flag.refund or refund
        open_flag.save()
        return open_flag
    last_resolved = (
        ReconciliationFlag.objects.filter(order=order, kind=kind, refund=refund)
        .order_by("-created_at", "-id")
        .first()
    )
    if (
        last_resolved is not None
        and kind != Kind.SHOP_FAILED
        and last_resolved.shop_refunded_minor == shop_refunded_minor
        and last_resolved.expected_minor == expected_minor
    ):
        return None
    flag = ReconciliationFlag.objects.create(
        order=order,
        refund=refund,
        kind=kind,
        currency=order.currency,
        detail=detail,
        **figures,
    )
    logger.warning(
        "Refunds of order %s need reconciliation: %s",
        order.number,
        kind,
        extra={
            "order": order.number,
            "shop_refunded_minor": shop_refunded_minor,
            "expected_minor": expected_minor,
        },
    )
    return flag


def flag_resolve(
    *, flag: ReconciliationFlag, actor: Actor, note: str
) -> ReconciliationFlag:
    """Close a reconciliation flag with the supervisor's note on what was done."""
    agent = actor.agent
    if agent is None or not agent.is_supervisor:
        raise PermissionDenied("Only a supervisor can resolve reconciliation flags.")
    note = note.strip()
    if not note:
        raise DomainError("Say what was checked or corrected.", field="note")
    with transaction.atomic():
        flag = ReconciliationFlag.objects.select_for_update().get(pk=flag.pk)
        if flag.status != ReconciliationFlag.Status.OPEN:
            raise StateConflict("This flag is already resolved.")
        flag.status = ReconciliationFlag.Status.RESOLVED
        flag.resolved_at = timezone.now()
        flag.resolved_by = actor.user
        flag.resolution_note = note
        flag.save(
            update_fields=["status", "resolved_at", "resolved_by", "resolution_note"]
        )
        record_event(
            action="refunds.reconciliation.resolved",
            actor=actor,
            target=flag,
            reason=note,
            changes={
                "shop_refunded": str(Money(flag.shop_refunded_minor, flag.currency)),
                "expected": str(Money(flag.expected_minor, flag.currency)),
            },
        )
    return flag
