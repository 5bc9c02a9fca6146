"""Eligibility rules: each rule, its outcome and its reason in plain words."""

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from cases.models import Order
from conftest import EXPORT_HEADER, export_row, import_export
from refunds.eligibility import (
    NEEDS_AGENT,
    NEEDS_SUPERVISOR,
    PASS,
    REJECT,
    CustomerHistory,
    Decision,
    evaluate,
    format_deadline,
    window_deadline,
)
from refunds.models import RefundRequest
from refunds.services import refund_preview
from refunds.tests.factories import request_refund

pytestmark = pytest.mark.django_db

Outcome = RefundRequest.Outcome
PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 1, 20, 12, tzinfo=UTC)


def make_order(
    number: str = "#1",
    lines: tuple[tuple[str, int, str, str], ...] = (("Mug", 1, "10.00", "MUG-1"),),
    **values: str,
) -> Order:
    """Import one order whose lines are (name, quantity, price, SKU)."""
    rows = []
    for position, (name, quantity, price, sku) in enumerate(lines):
        row = {
            "name": number,
            "lineitem_quantity": str(quantity),
            "lineitem_name": name,
            "lineitem_price": price,
            "lineitem_sku": sku,
        }
        if position == 0:
            row.update(
                {
                    "email": "pat.tester@example.com",
                    "financial_status": "paid",
                    "currency": "USD",
                    "created_at": "2026-01-10 10:00:00 +0000",
                    **values,
                }
            )
        rows.append(export_row(**row))
    import_export(EXPORT_HEADER + "\n" + "\n".join(rows) + "\n")
    return Order.objects.get(number=number)


def decide(
    order: Order,
    policy,
    *,
    selection: dict[int, int] | None = None,
    now: datetime = NOW,
    history: CustomerHistory | None = None,
    open_requested_minor: int = 0,
) -> Decision:
    lines = list(order.lines.order_by("position"))
    if selection is None:
        selection = {line.pk: line.quantity_refundable for line in lines}
    return evaluate(
        order=order,
        lines=lines,
        selection=selection,
        policy=policy,
        now=now,
        history=history or CustomerHistory(),
        open_requested_minor=open_requested_minor,
    )


def result_of(decision: Decision, rule: str) -> str:
    [result] = [r.result for r in decision.results if r.rule == rule]
    return result


# Return window


def test_window_counts_from_fulfilment(policy):
    order = make_order(fulfilled_at="2026-01-12 18:00:00 +0000")

    open_ = decide(order, policy, now=datetime(2026, 2, 11, 23, 59, tzinfo=UTC))
    closed = decide(order, policy, now=datetime(2026, 2, 12, 0, 0, tzinfo=UTC))

    assert result_of(open_, "return_window") == PASS
    assert any(
        r.detail
        == "30-day window from fulfilment, open until 11 Feb 2026, 23:59 (UTC)."
        for r in open_.results
    )
    assert closed.outcome == Outcome.NOT_ELIGIBLE
    assert closed.customer_reasons == [
        "The return window for this order ended on 11 Feb 2026, 23:59."
    ]


def test_window_counts_from_delivery_when_known(policy):
    order = make_order(fulfilled_at="2026-01-12 18:00:00 +0000")
    Order.objects.filter(pk=order.pk).update(
        delivered_at=datetime(2026, 1, 19, 9, tzinfo=UTC)
    )
    order.refresh_from_db()

    decision = decide(order, policy, now=datetime(2026, 2, 18, 23, tzinfo=UTC))

    assert result_of(decision, "return_window") == PASS
    assert window_deadline(order, policy) == datetime(2026, 2, 19, tzinfo=UTC)
    assert any(
        r.detail == "30-day window from delivery, open until 18 Feb 2026, 23:59 (UTC)."
        for r in decision.results
    )


def test_window_counts_from_order_date_when_unfulfilled(policy):
    order = make_order(created_at="2026-01-10 10:00:00 +0000")

    open_ = decide(order, policy, now=datetime(2026, 2, 9, 23, 59, tzinfo=UTC))
    closed = decide(order, policy, now=datetime(2026, 2, 10, 0, 1, tzinfo=UTC))

    assert result_of(open_, "return_window") == PASS
    assert result_of(closed, "return_window") == REJECT
    assert any("from order date" in r.detail for r in closed.results)


def test_window_crossing_dst_ends_at_local_midnight(policy):
    policy.time_zone = "Europe/Paris"
    policy.save()
    order = make_order(fulfilled_at="2026-10-01 10:00:00 +0200")
    selection = {line.pk: 1 for line in order.lines.all()}

    with time_machine.travel(datetime(2026, 10, 31, 23, 30, tzinfo=PARIS)):
        before = refund_preview(order=order, selection=selection)
    with time_machine.travel(datetime(2026, 11, 1, 0, 5, tzinfo=PARIS)):
        after = refund_preview(order=order, selection=selection)

    assert before.deadline == datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
    assert format_deadline(before.deadline, PARIS) == "31 Oct 2026, 23:59"
    assert result_of(before, "return_window") == PASS
    assert before.outcome == Outcome.NEEDS_AGENT
    assert after.outcome == Outcome.NOT_ELIGIBLE
    assert after.customer_reasons == [
        "The return window for this order ended on 31 Oct 2026, 23:59."
    ]


def test_window_uses_local_order_date(policy):
    policy.time_zone = "Europe/Paris"
    policy.return_window_days = 14
    policy.save()
    order = make_order(created_at="2026-03-10 00:30:00 +0100")
    selection = {line.pk: 1 for line in order.lines.all()}

    with time_machine.travel(datetime(2026, 3, 24, 23, 30, tzinfo=PARIS)):
        last_day = refund_preview(order=order, selection=selection)
    with time_machine.travel(datetime(2026, 3, 25, 0, 30, tzinfo=PARIS)):
        day_after = refund_preview(order=order, selection=selection)

    assert order.placed_at.astimezone(PARIS).date().isoformat() == "2026-03-10"
    assert last_day.deadline is not None
    assert format_deadline(last_day.deadline, PARIS) == "24 Mar 2026, 23:59"
    assert result_of(last_day, "return_window") == PASS
    assert result_of(day_after, "return_window") == REJECT


def test_window_in_utc_ends_a_day_earlier(policy):
    policy.return_window_days = 14
    order = make_order(created_at="2026-03-10 00:30:00 +0100")

    deadline = window_deadline(order, policy)

    assert deadline is not None
    assert format_deadline(deadline, ZoneInfo("UTC")) == "23 Mar 2026, 23:59"


def test_undated_order_goes_to_agent(policy):
    order = make_order(created_at="")

    decision = decide(order, policy)

    assert result_of(decision, "return_window") == NEEDS_AGENT
    assert decision.outcome == Outcome.NEEDS_AGENT
    assert decision.deadline is None


# Items that cannot be refunded


@pytest.mark.parametrize(
    ("patterns", "sku", "excluded"),
    [
        ("MUG-1", "MUG-1", True),
        ("MUG-1", "mug-1", True),
        ("MUG-1", "MUG-10", False),
        ("FS-*", "FS-RED", True),
        ("FS-*", "fs-blue-xl", True),
        ("FS-*", "XFS-RED", False),
        ("A?", "AB", False),
        ("[SALE]", "[SALE]", True),
        ("  OTHER\nMUG-1  \n", "MUG-1", True),
    ],
)
def test_final_sale_skus(policy, patterns, sku, excluded):
    policy.non_refundable_skus = patterns
    order = make_order(lines=(("Mug", 1, "10.00", sku),))

    decision = decide(order, policy)

    rules = [r.rule for r in decision.results]
    assert ("final_sale_sku" in rules) is excluded
    assert decision.is_eligible is not excluded


def test_final_sale_sku_reason(policy):
    policy.non_refundable_skus = "FS-*"
    order = make_order(lines=(("Mug", 1, "10.00", "FS-1"), ("Cup", 1, "5.00", "C")))
    mug, cup = order.lines.order_by("position")

    decision = decide(order, policy)

    assert decision.outcome == Outcome.NOT_ELIGIBLE
    assert decision.line_reasons(mug.pk) == [
        "Mug was sold as final sale and cannot be refunded."
    ]
    assert decision.line_reasons(cup.pk) == []
    assert decision.order_blockers == []


def test_final_sale_tag(policy):
    policy.non_refundable_tags = "Final-Sale\nclearance"
    order = make_order(tags="summer, final-sale")

    decision = decide(order, policy)

    assert decision.outcome == Outcome.NOT_ELIGIBLE
    assert decision.order_blockers == [
        "This order was sold as final sale and cannot be refunded."
    ]


def test_gift_card_not_refundable_by_default(policy):
    order = make_order(
        lines=(("Gift Card $50", 1, "50.00", ""),), lineitem_requires_shipping="false"
    )
    card = order.lines.get()

    decision = decide(order, policy)

    assert card.is_gift_card is True
    assert decision.outcome == Outcome.NOT_ELIGIBLE
    assert decision.line_reasons(card.pk) == [
        "Gift Card $50: gift cards cannot be refunded."
    ]


def test_gift_card_refundable_when_policy_allows(policy):
    policy.gift_cards_refundable = True
    order = make_order(
        lines=(("Gift Card $50", 1, "50.00", ""),), lineitem_requires_shipping="false"
    )

    decision = decide(order, policy)

    assert decision.is_eligible is True
    assert decision.amount_minor == 5000


# The state of the order


def test_cancelled_and_refunded_order_rejected(policy):
    order = make_order(
        financial_status="refunded",
        refunded_amount="10.00",
        cancelled_at="2026-01-11 08:00:00 +0000",
    )

    decision = decide(order, policy)

    assert decision.outcome == Outcome.NOT_ELIGIBLE
    assert result_of(decision, "order_cancelled") == REJECT
    assert decision.order_blockers == [
        "This order was cancelled.",
        "This order has already been refunded in full.",
    ]


def test_cancelled_order_with_money_kept(policy):
    order = make_order(cancelled_at="2026-01-11 08:00:00 +0000")

    decision = decide(order, policy)

    assert decision.outcome == Outcome.NOT_ELIGIBLE
    assert decision.order_blockers == [
        "This order was cancelled. If you were charged for it, please contact us."
    ]
    assert any(
        r.detail.startswith("Cancelled on 11 Jan 2026, but $10.00 of the payment")
        for r in decision.results
    )


def test_fully_refunded_order_rejected(policy):
    order = make_order(financial_status="refunded", refunded_amount="10.00")

    decision = decide(order, policy)

    assert decision.outcome == Outcome.NOT_ELIGIBLE
    assert result_of(decision, "fully_refunded") == REJECT
    assert "This order has already been refunded in full." in decision.order_blockers


@pytest.mark.parametrize("status", ["pending", "voided", "authorized", "expired"])
def test_unpaid_order_rejected(policy, status):
    order = make_order(financial_status=status)

    decision = decide(order, policy)

    assert decision.outcome == Outcome.NOT_ELIGIBLE
    assert decision.order_blockers == [
        "This order has no completed payment, so there is nothing to refund. If you "
        "want to cancel it, please contact us."
    ]
    assert decision.results[0].detail.endswith("so nothing was captured.")


def test_free_order_rejected_with_its_total(policy):
    order = make_order(lines=(("Sample", 1, "0.00", ""),))

    decision = decide(order, policy)

    assert decision.outcome == Outcome.NOT_ELIGIBLE
    assert decision.results[0].detail == (
        "The order total is $0.00, so nothing was paid."
    )


# Quantities and amounts


def test_quantity_already_requested(policy, refunds_team):
    order = make_order(lines=(("Mug", 3, "10.00", ""),))
    mug = order.lines.get()
    with time_machine.travel(NOW):
        request_refund(order, {1: 2})
    order.refresh_from_db()

    too_many = decide(order, policy, selection={mug.pk: 2})
    last_one = decide(order, policy, selection={mug.pk: 1})

    assert too_many.outcome == Outcome.NOT_ELIGIBLE
    assert too_many.line_reasons(mug.pk) == ["Mug: only 1 of 3 can still be refunded."]
    assert last_one.is_eligible is True
    assert last_one.amount_minor == 1000


def test_amount_capped_at_what_is_left(policy):
    order = make_order(
        lines=(("Shirt", 2, "25.00", ""),),
        financial_status="partially_refunded",
        refunded_amount="20.00",
    )

    decision = decide(order, policy)

    assert decision.amount_minor == 3000
    assert result_of(decision, "amount_left") == PASS
    assert decision.customer_reasons[0] == (
        "Part of this order has already been refunded or requested, so the refund "
        "is limited to the $30.00 that remains."
    )


def test_open_requests_cover_the_rest(policy):
    order = make_order(
        lines=(("Shirt", 1, "25.00", ""), ("Scarf", 1, "25.00", "")),
        financial_status="partially_refunded",
        refunded_amount="25.00",
    )
    scarf = order.lines.get(name="Scarf")

    decision = decide(order, policy, selection={scarf.pk: 1}, open_requested_minor=2500)

    assert decision.outcome == Outcome.NOT_ELIGIBLE
    assert decision.customer_reasons == [
        "Earlier requests for this order, still awaiting a decision, cover "
        "everything that is left to refund."
    ]


def test_shipping_refunded_with_the_last_item(policy):
    policy.shipping_refundable = True
    order = make_order(
        lines=(("Mug", 1, "10.00", ""), ("Cup", 1, "5.00", "")),
        shipping="4.00",
        total="19.00",
    )
    mug, cup = order.lines.order_by("position")

    first = decide(order, policy, selection={mug.pk: 1})
    both = decide(order, policy, selection={mug.pk: 1, cup.pk: 1})

    assert (first.amount_minor, first.shipping_minor) == (1000, 0)
    assert (both.amount_minor, both.shipping_minor) == (1900, 400)


@pytest.mark.parametrize(
    ("selection", "reason"),
    [
        ({}, "Choose at least one item and how many of it to return."),
        ({999_999: 1}, "One of the chosen items is not part of this order."),
    ],
)
def test_selection_rules(policy, selection, reason):
    order = make_order()

    decision = decide(order, policy, selection=selection)

    assert decision.outcome == Outcome.NOT_ELIGIBLE
    assert reason in decision.customer_reasons


def test_negative_quantity_rejected(policy):
    order = make_order()
    mug = order.lines.get()

    decision = decide(order, policy, selection={mug.pk: -1})

    assert decision.outcome == Outcome.NOT_ELIGIBLE
    assert "Quantities cannot be negative." in decision.customer_reasons
    assert decision.amount_minor == 0


# Abuse signals: review, never rejection


def test_refund_count_sends_to_review(policy):
    policy.abuse_max_refunds = 5
    policy.auto_approve_limit = Decimal("50")
    order = make_order()

    flagged = decide(order, policy, history=CustomerHistory(refund_requests=5))
    below = decide(order, policy, history=CustomerHistory(refund_requests=4))

    assert flagged.outcome == Outcome.NEEDS_AGENT
    assert result_of(flagged, "refund_count") == NEEDS_AGENT
    assert "An agent will review your request." in flagged.customer_reasons
    assert REJECT not in [r.result for r in flagged.results]
    assert below.outcome == Outcome.AUTO_APPROVE


def test_refund_ratio_sends_to_review(policy):
    policy.abuse_max_ratio = Decimal("0.50")
    policy.auto_approve_limit = Decimal("50")
    order = make_order()
    heavy = CustomerHistory(refund_requests=1, refunded_minor=6000, paid_minor=10000)
    half = CustomerHistory(refund_requests=1, refunded_minor=5000, paid_minor=10000)

    flagged = decide(order, policy, history=heavy)
    at_threshold = decide(order, policy, history=half)

    assert flagged.outcome == Outcome.NEEDS_AGENT
    assert result_of(flagged, "refund_ratio") == NEEDS_AGENT
    assert any("60%" in r.detail and "50%" in r.detail for r in flagged.results)
    assert REJECT not in [r.result for r in flagged.results]
    assert at_threshold.outcome == Outcome.AUTO_APPROVE


def test_abuse_never_rejects_even_when_both_fire(policy):
    policy.abuse_max_refunds = 1
    policy.abuse_max_ratio = Decimal("0.10")
    order = make_order()
    history = CustomerHistory(refund_requests=9, refunded_minor=9000, paid_minor=9000)

    decision = decide(order, policy, history=history)

    assert decision.outcome == Outcome.NEEDS_AGENT
    assert decision.is_eligible is True


# Who approves


@pytest.mark.parametrize(
    ("price", "outcome"),
    [("500.00", Outcome.NEEDS_AGENT), ("500.01", Outcome.NEEDS_SUPERVISOR)],
)
def test_supervisor_threshold(policy, price, outcome):
    order = make_order(lines=(("Sofa", 1, price, ""),))

    decision = decide(order, policy)

    assert decision.outcome == outcome


def test_supervisor_threshold_with_extra_decimals(policy):
    policy.supervisor_threshold = Decimal("99.995")
    order = make_order(lines=(("Lamp", 1, "100.00", ""),))

    decision = decide(order, policy)

    assert decision.outcome == Outcome.NEEDS_SUPERVISOR


def test_other_currency_needs_supervisor(policy):
    order = make_order(currency="EUR")

    decision = decide(order, policy)

    assert decision.outcome == Outcome.NEEDS_SUPERVISOR
    assert result_of(decision, "approval_level") == NEEDS_SUPERVISOR
    assert decision.customer_reasons == ["A supervisor will review your request."]


@pytest.mark.parametrize(
    ("limit", "price", "outcome"),
    [
        ("20", "10.00", Outcome.AUTO_APPROVE),
        ("20", "20.00", Outcome.AUTO_APPROVE),
        ("20", "20.01", Outcome.NEEDS_AGENT),
        ("0", "10.00", Outcome.NEEDS_AGENT),
    ],
)
def test_automatic_approval(policy, limit, price, outcome):
    policy.auto_approve_limit = Decimal(limit)
    order = make_order(lines=(("Mug", 1, price, ""),))

    decision = decide(order, policy)

    assert decision.outcome == outcome


def test_automatic_approval_approves_request(policy, refunds_team):
    policy.auto_approve_limit = Decimal("20")
    policy.save()
    order = make_order()

    with time_machine.travel(NOW):
        refund = request_refund(order, {1: 1})

    assert refund.status == RefundRequest.Status.APPROVED
    assert refund.approved_minor == 1000


def test_trace_lists_every_rule(policy):
    order = make_order()

    decision = decide(order, policy)

    assert [entry["rule"] for entry in decision.trace()] == [
        "order_paid",
        "return_window",
        "approval_level",
    ]
    assert all(entry["detail"] for entry in decision.trace())


def test_free_items_are_not_eligible(policy):
    order = make_order(
        lines=(("Free sample", 1, "0.00", "FREE-1"), ("Mug", 1, "10.00", "MUG-1"))
    )
    free = order.lines.get(sku="FREE-1")

    decision = decide(order, policy, selection={free.pk: 1})

    assert decision.outcome == Outcome.NOT_ELIGIBLE
    assert decision.amount_minor == 0
    assert any("free" in reason for reason in decision.customer_reasons)
