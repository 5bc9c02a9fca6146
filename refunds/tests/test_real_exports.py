"""Refunding every line of every real export reconciles with what was paid."""

import random
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone

from cases.audit import Actor
from cases.models import Order
from conftest import import_export
from refunds.eligibility import CustomerHistory, evaluate
from refunds.models import RefundPolicy
from refunds.models.policy import MAX_PERIOD_DAYS
from refunds.services import refund_request_create

pytestmark = pytest.mark.django_db

EXPORTS = Path(__file__).resolve().parents[2] / "tests" / "data" / "real-shopify"
FILES = sorted(path.name for path in EXPORTS.glob("*.csv"))


@pytest.fixture(autouse=True)
def _now():
    """Freeze the clock after the newest export and less than the longest
    return window after the oldest (May 2019), so every order is in time."""
    with time_machine.travel(datetime(2027, 1, 1, 12, tzinfo=UTC)):
        yield


def open_policy(currency: str) -> RefundPolicy:
    """Return a policy that lets every paid, open order refund everything."""
    return RefundPolicy.objects.create(
        name="Everything",
        currency=currency,
        return_window_days=MAX_PERIOD_DAYS,
        gift_cards_refundable=True,
        shipping_refundable=True,
        auto_approve_limit=Decimal("999999999"),
        supervisor_threshold=Decimal("999999999"),
        abuse_max_refunds=0,
        abuse_max_ratio=Decimal("0"),
    )


def is_refundable(order: Order) -> bool:
    return (
        order.paid_minor > 0 and not order.cancelled_at and order.refundable_minor > 0
    )


def refundable_orders():
    orders = Order.objects.prefetch_related("lines").order_by("pk")
    return [order for order in orders if is_refundable(order)]


def random_chunks(order, rng):
    """Split the order's units into random selections of line id to quantity."""
    units = [line.pk for line in order.lines.all() for _ in range(line.quantity)]
    rng.shuffle(units)
    while units:
        size = rng.randint(1, len(units))
        chunk, units = units[:size], units[size:]
        selection: dict[int, int] = {}
        for line_id in chunk:
            selection[line_id] = selection.get(line_id, 0) + 1
        yield selection


@pytest.mark.parametrize("name", FILES)
def test_every_split_of_every_order_sums_to_paid(name):
    import_export((EXPORTS / name).read_text(encoding="utf-8-sig"))
    currency = Order.objects.values_list("currency", flat=True).first()
    assert currency is not None, f"{name} has no orders"
    policy = open_policy(currency)
    rng = random.Random(name)
    now = timezone.now()
    orders = refundable_orders()

    for order in orders:
        lines = list(order.lines.all())
        shipping_taken = False
        for selection in random_chunks(order, rng):
            if order.refundable_minor == 0:
                break  # the shop's own refunds used up the rest
            decision = evaluate(
                order=order,
                lines=lines,
                selection=selection,
                policy=policy,
                now=now,
                history=CustomerHistory(),
                shipping_already_requested=shipping_taken,
            )
            assert decision.is_eligible, (order.number, decision.trace())
            shipping_taken = shipping_taken or decision.shipping_minor > 0
            for item in decision.lines:
                item.line.quantity_reserved += item.quantity
                item.line.amount_reserved_minor += item.amount_minor
            order.refunded_minor += decision.amount_minor

        assert order.refunded_minor + order.external_refunded_minor == (
            order.paid_minor
        ), order.number

    for order in Order.objects.prefetch_related("lines"):
        if is_refundable(order):
            continue
        everything = {line.pk: line.quantity for line in order.lines.all()}
        decision = evaluate(
            order=order,
            lines=list(order.lines.all()),
            selection=everything,
            policy=policy,
            now=now,
            history=CustomerHistory(),
        )
        assert not decision.is_eligible, order.number
        assert decision.order_blockers, order.number


def test_services_refund_whole_export():
    import_export((EXPORTS / "pt-jetski-rentals.csv").read_text(encoding="utf-8-sig"))
    open_policy("EUR")
    rng = random.Random("pt-jetski-rentals")
    orders = refundable_orders()
    assert len(orders) > 100

    for order in orders:
        for selection in random_chunks(order, rng):
            order.refresh_from_db()
            if order.refundable_minor == 0:
                break  # the shop's own refunds used up the rest
            refund_request_create(
                order=order,
                selection=selection,
                reason_code="damaged",
                reason_text="",
                actor=Actor.customer(),
            )

    for order in orders:
        order.refresh_from_db()
        assert order.refunded_minor + order.external_refunded_minor == (
            order.paid_minor
        ), order.number
        assert all(
            line.quantity_reserved == line.quantity for line in order.lines.all()
        ) or (order.external_refunded_minor), order.number
