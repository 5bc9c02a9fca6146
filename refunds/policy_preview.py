"""Replay of the last refund requests under a proposed policy, before saving it.

Each of the last N evaluated submissions (stored requests and declined ones)
is evaluated twice, under the current and under the proposed policy, at the
moment it was made. Both runs see the same order state: today's order less
what the request itself holds, so the differences come from the policy
alone. Nothing is written.

NOTE: the order state is today's, not the one at the time of the request,
so a request that later ones made impossible can show as blocked by both
policies. Such rows do not flip, so the flip list stays correct.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Prefetch

from cases.models import Order, OrderLine
from refunds import selectors
from refunds.eligibility import Decision, evaluate
from refunds.models import RefundAttempt, RefundPolicy, RefundRequest
from supportdesk.money import Money

MAX_COMPARED = 500
Outcome = RefundRequest.Outcome


@dataclass(frozen=True)
class PreviewRow:
    """One request whose outcome or amount the proposed policy changes."""

    attempt: RefundAttempt
    before: Decision
    after: Decision

    @property
    def change(self) -> str:
        if not self.before.is_eligible and self.after.is_eligible:
            return "now eligible"
        if self.before.is_eligible and not self.after.is_eligible:
            return "now not eligible"
        if self.before.outcome != self.after.outcome:
            return "decided by someone else"
        return "amount changes"

    @property
    def before_label(self) -> str:
        return Outcome(self.before.outcome).label

    @property
    def after_label(self) -> str:
        return Outcome(self.after.outcome).label

    @property
    def amount(self) -> Money:
        """Return the money that changes hands: the eligible side's amount."""
        decision = self.after if self.after.is_eligible else self.before
        return decision.amount

    @property
    def reasons_after(self) -> list[str]:
        return [r.detail for r in self.after.results if r.result != "pass"]


@dataclass
class PolicyPreview:
    compared: int = 0
    rows: list[PreviewRow] = field(default_factory=list)
    # Per currency, in minor units: money the proposed policy would newly
    # allow, and money it would newly block.
    newly_eligible: dict[str, int] = field(default_factory=dict)
    newly_blocked: dict[str, int] = field(default_factory=dict)

    @property
    def newly_eligible_money(self) -> list[Money]:
        return [Money(minor, cur) for cur, minor in sorted(self.newly_eligible.items())]

    @property
    def newly_blocked_money(self) -> list[Money]:
        return [Money(minor, cur) for cur, minor in sorted(self.newly_blocked.items())]


def policy_preview(
    *, current: RefundPolicy, proposed: RefundPolicy, count: int
) -> PolicyPreview:
    """Compare the two policies on the last ``count`` evaluated submissions."""
    count = max(1, min(count, MAX_COMPARED))
    attempts = list(
        RefundAttempt.objects.select_related("order__customer", "refund")
        .prefetch_related(
            Prefetch("order__lines", queryset=OrderLine.objects.order_by("position")),
            "refund__lines",
        )
        .order_by("-created_at", "-id")[:count]
    )
    preview = PolicyPreview(compared=len(attempts))
    eligible: defaultdict[str, int] = defaultdict(int)
    blocked: defaultdict[str, int] = defaultdict(int)
    for attempt in attempts:
        order, lines = _state_without(attempt)
        before = _evaluate(attempt, order, lines, current)
        after = _evaluate(attempt, order, lines, proposed)
        if (before.outcome, before.amount_minor) == (after.outcome, after.amount_minor):
            continue
        row = PreviewRow(attempt, before, after)
        preview.rows.append(row)
        if row.change == "now eligible":
            eligible[order.currency] += after.amount_minor
        elif row.change == "now not eligible":
            blocked[order.currency] += before.amount_minor
    preview.newly_eligible = dict(eligible)
    preview.newly_blocked = dict(blocked)
    return preview


def _state_without(attempt: RefundAttempt) -> tuple[Order, list[OrderLine]]:
    """Return copies of the order and its lines without the request's own hold."""
    order = copy.copy(attempt.order)
    lines = [copy.copy(line) for line in attempt.order.lines.all()]
    refund = attempt.refund
    if refund is not None and refund.status in RefundRequest.HOLDING_STATUSES:
        held = {line.order_line_id: line for line in refund.lines.all()}
        for line in lines:
            if line.pk in held:
                line.quantity_reserved -= held[line.pk].quantity
                line.amount_reserved_minor -= held[line.pk].amount_minor
        if refund.status in RefundRequest.COMMITTED_STATUSES:
            order.refunded_minor -= refund.approved_minor or 0
    return order, lines


def _evaluate(attempt, order, lines, policy) -> Decision:
    shipping_held = (
        RefundRequest.objects.filter(
            order_id=order.pk,
            status__in=RefundRequest.HOLDING_STATUSES,
            shipping_minor__gt=0,
        )
        .exclude(pk=attempt.refund_id)
        .exists()
    )
    return evaluate(
        order=order,
        lines=lines,
        selection=attempt.selection_by_line,
        policy=policy,
        now=attempt.created_at,
        history=selectors.customer_history(
            order.customer, policy, attempt.created_at, exclude=attempt.refund_id
        ),
        shipping_already_requested=shipping_held,
        product_types=selectors.product_types_for(lines),
    )
