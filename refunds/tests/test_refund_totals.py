"""Refunds through the services add up to exactly what was paid.

Each test imports orders with the real importer, files requests as a
customer and approves them as a supervisor, then compares the approved
amounts with the figures in the export, to the minor unit.
"""

import csv
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine

from cases.audit import Actor
from cases.models import Order
from cases.shopify_export import CAPTURED_STATUSES
from conftest import EXPORT_HEADER, export_row, import_export
from refunds.models import RefundPolicy, RefundRequest
from refunds.models.policy import MAX_PERIOD_DAYS
from refunds.services import NotEligible, refund_approve, refund_request_create
from supportdesk.money import to_minor

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("refunds_team")]

EXPORTS = Path(__file__).resolve().parents[2] / "tests" / "data" / "real-shopify"


@pytest.fixture(autouse=True)
def _now():
    """Freeze the clock ten days after the inline orders were placed."""
    with time_machine.travel(datetime(2026, 1, 20, 12, tzinfo=UTC)):
        yield


def import_order(*rows: dict[str, str]) -> Order:
    text = EXPORT_HEADER + "\n" + "\n".join(export_row(**row) for row in rows) + "\n"
    import_export(text)
    return Order.objects.get(number=rows[0]["name"])


def order_head(number: str, **values: str) -> dict[str, str]:
    return {
        "name": number,
        "email": "pat.tester@example.com",
        "financial_status": "paid",
        "currency": "USD",
        "created_at": "2026-01-10 10:00:00 +0000",
        **values,
    }


def request(order: Order, selection: dict[int, int]) -> RefundRequest:
    return refund_request_create(
        order=order,
        selection=selection,
        reason_code="damaged",
        reason_text="",
        actor=Actor.customer(),
    )


def approve(refund: RefundRequest, supervisor) -> RefundRequest:
    return refund_approve(refund=refund, actor=Actor.for_agent(supervisor))


def approved_minor(refund: RefundRequest) -> int:
    assert refund.approved_minor is not None, f"{refund.reference} is not approved"
    return refund.approved_minor


def three_stickers() -> Order:
    return import_order(
        order_head(
            "#1001",
            subtotal="1.50",
            taxes="0.08",
            total="1.58",
            lineitem_quantity="3",
            lineitem_name="Sticker",
            lineitem_price="0.50",
        )
    )


# Small orders with awkward rounding


def test_three_single_sticker_refunds_sum_to_total(policy, supervisor):
    order = three_stickers()
    sticker = order.lines.get()

    approved = [
        approved_minor(approve(request(order, {sticker.pk: 1}), supervisor))
        for _ in range(3)
    ]

    order.refresh_from_db()
    assert approved == [53, 53, 52]
    assert sum(approved) == 158
    assert order.refunded_minor == 158
    assert order.refundable_minor == 0


def test_fourth_sticker_refund_rejected(policy, supervisor):
    order = three_stickers()
    sticker = order.lines.get()
    for _ in range(3):
        approve(request(order, {sticker.pk: 1}), supervisor)

    with pytest.raises(NotEligible):
        request(order, {sticker.pk: 1})

    assert RefundRequest.objects.count() == 3


def test_three_sticker_refund_at_once(policy, supervisor):
    order = three_stickers()
    sticker = order.lines.get()

    refund = approve(request(order, {sticker.pk: 3}), supervisor)

    assert refund.requested_minor == 158
    assert refund.approved_minor == 158


def test_discount_shared_over_two_refunds(policy, supervisor):
    order = import_order(
        order_head(
            "#1002",
            total="168.00",
            discount_code="SAVE20",
            discount_amount="42.00",
            lineitem_quantity="1",
            lineitem_name="Jacket",
            lineitem_price="150.00",
        ),
        {
            "name": "#1002",
            "lineitem_quantity": "1",
            "lineitem_name": "Scarf",
            "lineitem_price": "60.00",
        },
    )
    jacket = order.lines.get(name="Jacket")
    scarf = order.lines.get(name="Scarf")

    jacket_refund = approve(request(order, {jacket.pk: 1}), supervisor)
    scarf_refund = approve(request(order, {scarf.pk: 1}), supervisor)

    assert jacket_refund.approved_minor == 12000
    assert scarf_refund.approved_minor == 4800
    assert jacket_refund.approved_minor + scarf_refund.approved_minor == 16800


def test_refund_made_in_shop_limits_the_rest(policy, supervisor):
    order = import_order(
        order_head(
            "#1006",
            financial_status="partially_refunded",
            total="50.00",
            refunded_amount="20.00",
            lineitem_quantity="2",
            lineitem_name="Shirt",
            lineitem_price="25.00",
        )
    )
    shirt = order.lines.get()

    refund = request(order, {shirt.pk: 2})
    approve(refund, supervisor)

    order.refresh_from_db()
    assert refund.requested_minor == 3000
    assert order.refunded_minor == 3000
    assert order.refunded_minor + order.external_refunded_minor == order.paid_minor


@pytest.mark.parametrize(
    ("currency", "price", "taxes", "total", "shares"),
    [
        ("JPY", "1000", "1", "3001", [1001, 1000, 1000]),
        ("KWD", "1.250", "0.001", "3.751", [1251, 1250, 1250]),
        ("EUR", "0.33", "0.00", "0.99", [33, 33, 33]),
    ],
)
def test_unit_refunds_in_each_exponent(
    policy, supervisor, currency, price, taxes, total, shares
):
    order = import_order(
        order_head(
            "#7",
            currency=currency,
            taxes=taxes,
            total=total,
            lineitem_quantity="3",
            lineitem_name="Tea",
            lineitem_price=price,
        )
    )
    tea = order.lines.get()

    approved = [
        approved_minor(approve(request(order, {tea.pk: 1}), supervisor))
        for _ in range(3)
    ]

    assert approved == shares
    assert sum(approved) == to_minor(Decimal(total), currency)


# Every line of every real export


def generous_policy(currency: str) -> None:
    RefundPolicy.objects.filter(is_active=True).delete()
    RefundPolicy.objects.create(
        name="Refund everything",
        currency=currency,
        return_window_days=MAX_PERIOD_DAYS,
        shipping_refundable=True,
        gift_cards_refundable=True,
        auto_approve_limit=Decimal("0"),
        supervisor_threshold=Decimal("999999999"),
        abuse_max_refunds=0,
        abuse_max_ratio=Decimal("0"),
    )


def still_paid(path: Path) -> dict[str, int]:
    """Return, per order, what was paid less what the shop refunded.

    Read from the file with the csv module, independently of the importer.
    Cancelled orders are not refundable through Supportdesk, so they count 0.
    """
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["Financial Status"]]
    result = {}
    for row in rows:
        if row["Financial Status"] not in CAPTURED_STATUSES or row["Cancelled at"]:
            result[row["Name"]] = 0
            continue
        outstanding = Decimal(row.get("Outstanding Balance") or "0")
        paid = Decimal(row["Total"]) - max(Decimal(0), outstanding)
        left = max(Decimal(0), paid - Decimal(row["Refunded Amount"] or "0"))
        result[row["Name"]] = to_minor(left, row["Currency"])
    return result


@pytest.mark.parametrize("name", sorted(path.name for path in EXPORTS.glob("*.csv")))
def test_refunding_every_line_reconciles(name, supervisor):
    path = EXPORTS / name
    import_export(path.read_bytes())
    currency = Order.objects.values_list("currency", flat=True).first()
    assert currency is not None, f"{name} has no orders"
    generous_policy(currency)
    expected = still_paid(path)
    refunded: dict[str, int] = {}

    for order in Order.objects.order_by("pk"):
        refunded[order.number] = 0
        for line in order.lines.order_by("position"):
            try:
                refund = request(order, {line.pk: line.quantity})
            except NotEligible:
                continue
            refunded[order.number] += approved_minor(approve(refund, supervisor))

    assert refunded == expected
    for order in Order.objects.all():
        assert order.refunded_minor == expected[order.number], order.number
        assert order.refunded_minor + order.external_refunded_minor <= order.paid_minor
