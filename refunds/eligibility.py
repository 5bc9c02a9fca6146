"""Refund eligibility: ordered rules, each with a reason in plain words.

``evaluate`` runs every rule on a proposed request and returns a Decision
holding the outcome, the amounts and a trace of every rule. Customers see the
polite reasons of the rules that stopped or delayed their request; agents and
supervisors see the whole trace.

The outcome is the most severe of the rule results: a rejection makes the
request not eligible; otherwise a rule that asks for a supervisor or an agent
sends it to review; a clean request up to the policy's automatic limit is
approved at once. Abuse signals only ever send a request to review.
"""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import formats, timezone

from cases.models import Order, OrderLine
from cases.shopify_export import CAPTURED_STATUSES
from refunds.models import RefundPolicy, RefundRequest
from refunds.models.policy import PolicyMisconfigured
from supportdesk.money import Money, limit_to_minor, unit_share

logger = logging.getLogger(__name__)

Outcome = RefundRequest.Outcome

PASS = "pass"
NEEDS_AGENT = "needs_agent"
NEEDS_SUPERVISOR = "needs_supervisor"
REJECT = "reject"
_SEVERITY = {PASS: 0, NEEDS_AGENT: 1, NEEDS_SUPERVISOR: 2, REJECT: 3}
# Rules that judge the order as a whole, whatever items are chosen.
ORDER_RULES = {
    "order_paid",
    "order_cancelled",
    "fully_refunded",
    "return_window",
    "final_sale_tag",
}


@dataclass(frozen=True)
class RuleResult:
    """The result of one rule, with a message for each audience."""

    rule: str
    result: str
    detail: str  # for agents and supervisors: the facts the rule used
    customer_message: str = ""  # for the customer, when the rule did not pass
    line_id: int | None = None

    def as_json(self) -> dict:
        return {
            "rule": self.rule,
            "result": self.result,
            "detail": self.detail,
            "customer_message": self.customer_message,
            "line_id": self.line_id,
        }


@dataclass(frozen=True)
class CustomerHistory:
    """A customer's refund activity over the policy's abuse period."""

    refund_requests: int = 0
    refunded_minor: int = 0
    paid_minor: int = 0


@dataclass
class LineAmount:
    line: OrderLine
    quantity: int
    amount_minor: int


@dataclass
class Decision:
    outcome: str
    results: list[RuleResult]
    lines: list[LineAmount] = field(default_factory=list)
    shipping_minor: int = 0
    amount_minor: int = 0
    currency: str = ""
    deadline: datetime | None = None

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)

    @property
    def is_eligible(self) -> bool:
        return self.outcome != Outcome.NOT_ELIGIBLE

    @property
    def customer_reasons(self) -> list[str]:
        """Return the distinct customer messages, in rule order."""
        messages = [r.customer_message for r in self.results if r.customer_message]
        return list(dict.fromkeys(messages))

    @property
    def order_blockers(self) -> list[str]:
        """Return the customer reasons that rule out the whole order."""
        return [
            r.customer_message
            for r in self.results
            if r.result == REJECT and r.rule in ORDER_RULES and r.customer_message
        ]

    def line_reasons(self, line_id: int) -> list[str]:
        return [
            r.customer_message
            for r in self.results
            if r.line_id == line_id and r.result == REJECT and r.customer_message
        ]

    def trace(self) -> list[dict]:
        return [result.as_json() for result in self.results]


def window_deadline(order: Order, policy: RefundPolicy) -> datetime | None:
    """Return the first instant after the return window, or None if undated.

    The window starts on the local calendar day of delivery, else fulfilment,
    else the order date, in the policy's time zone. Its last day counts in
    full: the deadline is the following local midnight, so a change of
    daylight saving time inside the window does not move it.
    """
    start = order.delivered_at or order.fulfilled_at or order.placed_at
    if start is None:
        return None
    tz = policy_time_zone(policy)
    try:
        last_day = timezone.localtime(start, tz).date() + timedelta(
            days=policy.return_window_days
        )
        return datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=tz)
    except OverflowError:
        logger.error(
            "Refund policy %s: a return window of %s days after %s on order %s "
            "is out of the date range.",
            policy.pk,
            policy.return_window_days,
            start,
            order.pk,
            extra={"policy": policy.pk, "order": order.pk},
        )
        raise PolicyMisconfigured from None


def policy_time_zone(policy: RefundPolicy) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(policy.time_zone or settings.TIME_ZONE)


def format_deadline(deadline: datetime, tz: zoneinfo.ZoneInfo) -> str:
    """Return the last moment of the window, as '31 Oct 2026, 23:59'."""
    last = timezone.localtime(deadline - timedelta(minutes=1), tz)
    return formats.date_format(last, "j M Y, H:i")


def evaluate(
    *,
    order: Order,
    lines: list[OrderLine],
    selection: Mapping[int, int],
    policy: RefundPolicy,
    now: datetime,
    history: CustomerHistory,
    open_requested_minor: int = 0,
    shipping_already_requested: bool = False,
    product_types: Mapping[str, str] | None = None,
) -> Decision:
    """Run every rule on a request for ``selection`` (line id to quantity).

    ``lines`` are the order's lines with their current reservations, read
    under the order's lock when the result will be stored.
    ``open_requested_minor`` is what undecided requests on the order already
    ask for. ``product_types`` maps SKUs to their product type, from the
    product catalog.
    """
    results: list[RuleResult] = []
    chosen = [(line, selection.get(line.pk, 0)) for line in lines]
    chosen = [(line, quantity) for line, quantity in chosen if quantity]

    results.extend(_order_rules(order, policy))
    results.extend(_selection_rules(lines, selection, chosen))
    results.extend(_line_rules(order, chosen, policy, product_types or {}))
    deadline = window_deadline(order, policy)
    results.append(_window_rule(order, policy, deadline, now))

    line_amounts = [
        LineAmount(line, quantity, _line_amount(line, quantity))
        for line, quantity in chosen
        if 0 < quantity <= line.quantity_refundable
    ]
    shipping = _shipping_amount(
        order, lines, line_amounts, policy, shipping_already_requested
    )
    amount = sum(item.amount_minor for item in line_amounts) + shipping
    room = max(0, order.refundable_minor - open_requested_minor)
    if amount > room:
        results.append(_amount_left_rule(order, amount, room, open_requested_minor))
        amount = room
    elif line_amounts and amount == 0:
        results.append(
            RuleResult(
                "nothing_to_refund",
                REJECT,
                "The chosen units are worth 0 after discounts, so no money can be "
                "refunded for them.",
                "The chosen items were free, so there is no money to refund for "
                "them. Contact us if you want to return them anyway.",
            )
        )
    results.extend(_history_rules(order, policy, history))
    results.extend(_approval_rules(order, policy, amount, results))

    return Decision(
        outcome=_outcome(results),
        results=results,
        lines=line_amounts,
        shipping_minor=min(shipping, amount),
        amount_minor=amount,
        currency=order.currency,
        deadline=deadline,
    )


def _amount_left_rule(
    order: Order, amount: int, room: int, open_requested_minor: int
) -> RuleResult:
    """Cap the request at what is left after every refund and open request."""
    detail = (
        f"The items are worth {order.money(amount)}, but only {order.money(room)} "
        f"of this order is left to refund (paid {order.paid}, refunded by the "
        f"shop {order.money(order.external_refunded_minor)}, refunded here "
        f"{order.money(order.refunded_minor)}, awaiting a decision "
        f"{order.money(open_requested_minor)}). The request is capped at what is "
        "left."
    )
    if room:
        message = (
            "Part of this order has already been refunded or requested, so the "
            f"refund is limited to the {order.money(room)} that remains."
        )
    elif order.refundable_minor:
        message = (
            "Earlier requests for this order, still awaiting a decision, cover "
            "everything that is left to refund."
        )
    else:
        message = "This order has already been refunded in full."
    return RuleResult("amount_left", PASS if room else REJECT, detail, message)


def _line_amount(line: OrderLine, quantity: int) -> int:
    """Return the value of ``quantity`` more units of ``line``.

    The units already held are worth ``amount_reserved_minor``. The new units
    take the difference up to the cumulative value of all held units, so the
    last request always takes exactly what is left of the line total.
    """
    held = line.quantity_reserved
    cumulative = unit_share(line.total_minor, line.quantity, 0, held + quantity)
    return max(0, cumulative - line.amount_reserved_minor)


def _shipping_amount(
    order, lines, line_amounts, policy, shipping_already_requested
) -> int:
    """Return the shipping to refund with this request, if any.

    Shipping and duties go with the request after which no line has value
    left to refund. Free units (worth 0 after discounts) do not count, since
    nobody files a request for them alone.
    """
    if not policy.shipping_refundable or shipping_already_requested:
        return 0
    requested = {item.line.pk: item.amount_minor for item in line_amounts}
    returns_everything = all(
        line.total_minor - line.amount_reserved_minor - requested.get(line.pk, 0) <= 0
        for line in lines
    )
    return order.shipping_minor + order.duties_minor if returns_everything else 0


def _order_rules(order: Order, policy: RefundPolicy) -> list[RuleResult]:
    results = [_paid_rule(order)]
    already_refunded = order.external_refunded_minor + order.refunded_minor
    if order.cancelled_at:
        results.append(_cancelled_rule(order, policy))
    if order.financial_status == Order.FinancialStatus.REFUNDED or (
        order.paid_minor > 0 and order.refundable_minor == 0
    ):
        results.append(
            RuleResult(
                "fully_refunded",
                REJECT,
                f"Already refunded: {order.money(already_refunded)} of {order.paid}.",
                "This order has already been refunded in full.",
            )
        )
    return results


def _paid_rule(order: Order) -> RuleResult:
    if order.paid_minor > 0:
        return RuleResult("order_paid", PASS, f"Paid {order.paid}.")
    if order.financial_status in CAPTURED_STATUSES:
        detail = f"The order total is {order.total}, so nothing was paid."
    else:
        status = order.get_financial_status_display()
        detail = f"Financial status is {status}, so nothing was captured."
    return RuleResult(
        "order_paid",
        REJECT,
        detail,
        "This order has no completed payment, so there is nothing to refund. "
        "If you want to cancel it, please contact us.",
    )


def _cancelled_rule(order: Order, policy: RefundPolicy) -> RuleResult:
    """Reject a cancelled order, and tell the agent if the shop kept money.

    The shop chooses whether to refund when it cancels an order, so the
    customer is not told that the refund happened automatically.
    """
    if order.cancelled_at is None:
        raise ValueError(f"Order {order.number} is not cancelled.")
    cancelled = _local_date(order.cancelled_at, policy_time_zone(policy))
    if order.refundable_minor == 0:
        return RuleResult(
            "order_cancelled",
            REJECT,
            f"Cancelled on {cancelled}, with nothing left to refund.",
            "This order was cancelled.",
        )
    return RuleResult(
        "order_cancelled",
        REJECT,
        f"Cancelled on {cancelled}, but {order.money(order.refundable_minor)} of "
        "the payment was not refunded. Check in the shop whether it was refunded "
        "elsewhere.",
        "This order was cancelled. If you were charged for it, please contact us.",
    )


def _local_date(moment: datetime, tz: zoneinfo.ZoneInfo) -> str:
    return formats.date_format(timezone.localtime(moment, tz), "j M Y")


def _selection_rules(lines, selection, chosen) -> list[RuleResult]:
    known = {line.pk for line in lines}
    results = []
    if any(line_id not in known for line_id in selection):
        results.append(
            RuleResult(
                "selection",
                REJECT,
                "The request names a line that is not part of this order.",
                "One of the chosen items is not part of this order.",
            )
        )
    if any(quantity < 0 for quantity in selection.values()):
        results.append(
            RuleResult(
                "selection",
                REJECT,
                "A negative quantity was requested.",
                "Quantities cannot be negative.",
            )
        )
    if not chosen:
        results.append(
            RuleResult(
                "selection",
                REJECT,
                "No item was chosen.",
                "Choose at least one item and how many of it to return.",
            )
        )
    return results


def line_blocker(
    line: OrderLine, policy: RefundPolicy, product_type: str = ""
) -> RuleResult | None:
    """Return the rule that excludes ``line`` from every refund, if any.

    ``product_type`` is the line's type in the product catalog, if known.
    """
    if line.is_gift_card and not policy.gift_cards_refundable:
        return RuleResult(
            "gift_card",
            REJECT,
            f"{line.name} is a gift card and the policy excludes gift cards.",
            f"{line.name}: gift cards cannot be refunded.",
            line.pk,
        )
    matched = next((p for p in policy.sku_patterns if _sku_matches(line.sku, p)), None)
    if matched:
        return RuleResult(
            "final_sale_sku",
            REJECT,
            f"{line.name} has SKU {line.sku}, which matches the non-refundable "
            f"pattern {matched}.",
            f"{line.name} was sold as final sale and cannot be refunded.",
            line.pk,
        )
    if product_type and product_type.casefold() in policy.product_type_set:
        return RuleResult(
            "final_sale_type",
            REJECT,
            f"{line.name} (SKU {line.sku}) is a {product_type}, a product type the "
            "policy excludes.",
            f"{line.name} cannot be returned: {product_type} items are not refundable.",
            line.pk,
        )
    return None


def _line_rules(order, chosen, policy, product_types) -> list[RuleResult]:
    results = []
    for line, quantity in chosen:
        if quantity > line.quantity_refundable:
            results.append(
                RuleResult(
                    "quantity_left",
                    REJECT,
                    f"{line.name}: {quantity} requested, {line.quantity} ordered, "
                    f"{line.quantity_reserved} already requested or refunded.",
                    f"{line.name}: only {line.quantity_refundable} of {line.quantity} "
                    "can still be refunded.",
                    line.pk,
                )
            )
        blocker = line_blocker(line, policy, product_types.get(line.sku, ""))
        if blocker is not None:
            results.append(blocker)
    final_tags = policy.tag_set & {tag.lower() for tag in order.tag_list}
    if final_tags:
        results.append(
            RuleResult(
                "final_sale_tag",
                REJECT,
                f"The order is tagged {', '.join(sorted(final_tags))}, which the "
                "policy excludes.",
                "This order was sold as final sale and cannot be refunded.",
            )
        )
    return results


def _sku_matches(sku: str, pattern: str) -> bool:
    """Return whether ``sku`` equals ``pattern``, ignoring case.

    A pattern ending in * matches every SKU that starts with the text before
    it. Other characters, such as ? or [, match only themselves, because SKUs
    contain them.
    """
    if not sku:
        return False
    if pattern.endswith("*"):
        return sku.casefold().startswith(pattern[:-1].casefold())
    return sku.casefold() == pattern.casefold()


def _window_rule(order, policy, deadline, now) -> RuleResult:
    if deadline is None:
        return RuleResult(
            "return_window",
            NEEDS_AGENT,
            "The order has no order, fulfilment or delivery date, so the return "
            "window cannot be checked.",
            "We need to check the dates of this order, so an agent will review "
            "your request.",
        )
    tz = policy_time_zone(policy)
    starts_from = (
        "delivery"
        if order.delivered_at
        else "fulfilment"
        if order.fulfilled_at
        else "order date"
    )
    until = format_deadline(deadline, tz)
    if now >= deadline:
        return RuleResult(
            "return_window",
            REJECT,
            f"{policy.return_window_days}-day window from {starts_from} ended {until} "
            f"({tz.key}).",
            f"The return window for this order ended on {until}.",
        )
    return RuleResult(
        "return_window",
        PASS,
        f"{policy.return_window_days}-day window from {starts_from}, open until "
        f"{until} ({tz.key}).",
    )


def _history_rules(order, policy, history: CustomerHistory) -> list[RuleResult]:
    results = []
    period = policy.abuse_period_days
    if policy.abuse_max_refunds and history.refund_requests >= policy.abuse_max_refunds:
        results.append(
            RuleResult(
                "refund_count",
                NEEDS_AGENT,
                f"The customer made {history.refund_requests} refund requests in "
                f"the last {period} days; the review threshold is "
                f"{policy.abuse_max_refunds}.",
                "An agent will review your request.",
            )
        )
    if policy.abuse_max_ratio and history.paid_minor > 0:
        ratio = Decimal(history.refunded_minor) / Decimal(history.paid_minor)
        if ratio > policy.abuse_max_ratio:
            results.append(
                RuleResult(
                    "refund_ratio",
                    NEEDS_AGENT,
                    f"The customer had {ratio:.0%} of their spending refunded in "
                    f"the last {period} days; the review threshold is "
                    f"{policy.abuse_max_ratio:.0%}.",
                    "An agent will review your request.",
                )
            )
    return results


def _approval_rules(order, policy, amount_minor, results) -> list[RuleResult]:
    if any(r.result == REJECT for r in results):
        return []
    if order.currency != policy.currency:
        return [
            RuleResult(
                "approval_level",
                NEEDS_SUPERVISOR,
                f"The order is in {order.currency} and the policy's limits are in "
                f"{policy.currency}, so a supervisor decides.",
                "A supervisor will review your request.",
            )
        ]
    threshold = limit_to_minor(policy.supervisor_threshold, policy.currency)
    auto_limit = limit_to_minor(policy.auto_approve_limit, policy.currency)
    amount = Money(amount_minor, order.currency)
    if amount_minor > threshold:
        return [
            RuleResult(
                "approval_level",
                NEEDS_SUPERVISOR,
                f"{amount} is above the supervisor threshold of "
                f"{Money(threshold, policy.currency)}.",
                "A supervisor will review your request.",
            )
        ]
    clean = all(r.result == PASS for r in results)
    if clean and 0 < amount_minor <= auto_limit:
        return [
            RuleResult(
                "approval_level",
                PASS,
                f"{amount} is within the automatic approval limit of "
                f"{Money(auto_limit, policy.currency)} and every rule passed.",
            )
        ]
    return [
        RuleResult(
            "approval_level",
            NEEDS_AGENT,
            f"{amount} needs an agent's decision (automatic approval up to "
            f"{Money(auto_limit, policy.currency)}).",
            "Our team will review your request.",
        )
    ]


def _outcome(results: list[RuleResult]) -> str:
    worst = max((_SEVERITY[r.result] for r in results), default=0)
    return {
        0: Outcome.AUTO_APPROVE,
        1: Outcome.NEEDS_AGENT,
        2: Outcome.NEEDS_SUPERVISOR,
        3: Outcome.NOT_ELIGIBLE,
    }[worst]
