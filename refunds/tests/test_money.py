"""Exact money: every split of a refund sums to what was paid, in any currency."""

import random
from decimal import Decimal

import pytest

from cases.audit import Actor
from cases.models import Order
from refunds.forms import ApproveForm
from refunds.models import RefundRequest
from refunds.services import NotEligible, refund_approve
from refunds.tests.factories import make_order, request_refund
from supportdesk.money import to_minor

pytestmark = pytest.mark.django_db


def approve(refund, agent, amount_minor=None):
    return refund_approve(
        refund=refund, actor=Actor.for_agent(agent), amount_minor=amount_minor
    )


def test_single_unit_refunds_sum_to_total(policy, agent):
    order = make_order(lines=[("Sticker", "0.50", 3, "STK")], taxes="0.08")
    assert order.total_minor == 158

    amounts = []
    for _ in range(3):
        refund = approve(request_refund(order, {1: 1}), agent)
        amounts.append(refund.approved_minor)

    assert amounts == [53, 53, 52]
    order.refresh_from_db()
    assert order.refunded_minor == 158
    assert order.refundable_minor == 0


def test_sticker_all_units_at_once_is_the_total(policy, agent):
    order = make_order(lines=[("Sticker", "0.50", 3, "STK")], taxes="0.08")

    refund = approve(request_refund(order, {1: 3}), agent)

    assert refund.approved_minor == 158


def test_order_discount_is_shared_by_line_value(policy, supervisor):
    order = make_order(
        "#1002",
        lines=[("Jacket", "150.00", 1, "JKT"), ("Scarf", "60.00", 1, "SCF")],
        discount="42.00",
    )
    assert order.total_minor == 16800

    jacket = approve(request_refund(order, {1: 1}), supervisor)
    scarf = approve(request_refund(order, {2: 1}), supervisor)

    assert jacket.approved_minor == 12000
    assert scarf.approved_minor == 4800
    order.refresh_from_db()
    assert order.refunded_minor == order.paid_minor == 16800


@pytest.mark.parametrize("typed", ["6.95", "6,95", " 6.95 "])
def test_amount_typed_by_agent_keeps_its_cents(typed):
    form = ApproveForm({"amount": typed, "reason": ""}, currency="EUR")

    assert form.is_valid(), form.errors
    assert form.cleaned_data["amount"] == 695


@pytest.mark.parametrize("typed", ["6.955", "1,000", "six"])
def test_amount_that_would_change_money_is_invalid(typed):
    form = ApproveForm({"amount": typed, "reason": ""}, currency="EUR")

    assert not form.is_valid()
    assert "amount" in form.errors


def test_typed_amounts_reach_ledger_exactly(policy, agent):
    order = make_order(
        "#1004",
        lines=[("Lamp", "6.95", 1, "LMP"), ("Bulb", "2.60", 1, "BLB")],
        currency="EUR",
    )
    policy.currency = "EUR"
    policy.save()

    lamp = approve(request_refund(order, {1: 1}), agent, amount_minor=695)
    bulb = approve(request_refund(order, {2: 1}), agent, amount_minor=260)

    assert (lamp.approved_minor, bulb.approved_minor) == (695, 260)
    order.refresh_from_db()
    assert order.refunded_minor == 955
    with pytest.raises(NotEligible, match="already been refunded in full"):
        request_refund(order, {1: 1})
    assert RefundRequest.objects.count() == 2


def test_refund_made_in_the_shop_caps_the_remainder(policy, agent):
    order = make_order(
        "#1006",
        lines=[("Kettle", "25.00", 2, "KTL")],
        status="partially_refunded",
        refunded="20.00",
    )
    assert order.external_refunded_minor == 2000

    refund = request_refund(order)

    assert refund.requested_minor == 3000
    assert any(item["rule"] == "amount_left" for item in refund.eligibility_trace), (
        refund.eligibility_trace
    )
    approve(refund, agent)
    order.refresh_from_db()
    assert order.refunded_minor + order.external_refunded_minor == 5000
    assert order.refundable_minor == 0


@pytest.mark.parametrize(
    ("currency", "price", "taxes", "total_minor"),
    [
        ("JPY", "1000", "300", 3300),
        ("EUR", "10.00", "3.00", 3300),
        ("KWD", "1.333", "0.401", 4400),
    ],
)
def test_currency_exponent_is_respected(
    policy, supervisor, currency, price, taxes, total_minor
):
    policy.currency = currency
    policy.save()
    order = make_order(lines=[("Cup", price, 3, "CUP")], currency=currency, taxes=taxes)
    assert order.total_minor == total_minor

    first = approve(request_refund(order, {1: 1}), supervisor)
    rest = approve(request_refund(order, {1: 2}), supervisor)

    assert first.approved_minor + rest.approved_minor == total_minor
    assert first.currency == currency


def test_shipping_refunded_with_last_item(policy, agent):
    policy.shipping_refundable = True
    policy.save()
    order = make_order(lines=[("Mug", "12.00", 2, "MUG")], shipping="4.99")

    first = request_refund(order, {1: 1})
    last = request_refund(order, {1: 1})

    assert first.shipping_minor == 0
    assert last.shipping_minor == 499
    assert first.requested_minor + last.requested_minor == order.paid_minor


def test_shipping_stays_with_the_shop_by_default(policy):
    order = make_order(lines=[("Mug", "12.00", 2, "MUG")], shipping="4.99")

    refund = request_refund(order)

    assert refund.shipping_minor == 0
    assert refund.requested_minor == 2400


AWKWARD_ORDERS = [
    # (lines, discount, taxes, shipping, currency)
    (
        [("A", "0.33", 7, "A"), ("B", "1.01", 3, "B"), ("C", "9.99", 1, "C")],
        "1.13",
        "0.97",
        "3.31",
        "USD",
    ),
    ([("A", "333", 3, "A"), ("B", "101", 7, "B")], "17", "89", "7", "JPY"),
    ([("A", "0.333", 9, "A"), ("B", "2.001", 2, "B")], "0.013", "0.211", "0.5", "KWD"),
    ([("A", "19.99", 5, "A")], "0.01", "0", "0", "EUR"),
]


@pytest.mark.parametrize(
    ("lines", "discount", "taxes", "shipping", "currency"), AWKWARD_ORDERS
)
def test_any_unit_split_sums_to_paid(
    policy, supervisor, lines, discount, taxes, shipping, currency
):
    policy.currency = currency
    policy.shipping_refundable = True
    policy.supervisor_threshold = Decimal("1000000")
    policy.save()
    rng = random.Random(f"{currency}-{len(lines)}")
    for attempt in range(8):
        order = make_order(
            f"#S{attempt}-{currency}",
            lines=lines,
            discount=discount,
            taxes=taxes,
            shipping=shipping,
            currency=currency,
        )
        units = [line.pk for line in order.lines.all() for _ in range(line.quantity)]
        rng.shuffle(units)
        total = 0
        while units:
            size = rng.randint(1, len(units))
            chunk, units = units[:size], units[size:]
            selection: dict[int, int] = {}
            for line_id in chunk:
                selection[line_id] = selection.get(line_id, 0) + 1
            positions = {line.pk: line.position for line in order.lines.all()}
            refund = request_refund(
                order, {positions[pk]: qty for pk, qty in selection.items()}
            )
            total += approve(refund, supervisor).approved_minor

        order = Order.objects.get(pk=order.pk)
        assert total == order.paid_minor, (attempt, currency)
        assert order.refunded_minor == order.paid_minor
        assert order.paid_minor == to_minor(order.total.amount, currency)
