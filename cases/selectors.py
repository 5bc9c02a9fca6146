"""Reads for the agent pages. Every query starts from the agent who asks."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet, Sum
from django.http import Http404

from agents.models import Agent, Membership
from cases.models import (
    AuditEvent,
    CaseMerge,
    CaseMessage,
    Order,
    SupportCase,
    Tag,
    parse_case_reference,
)
from refunds.models import RefundRequest
from supportdesk.money import Money

# Rows of each list in the customer sidebar; the totals cover every order.
SIDEBAR_ORDERS = 10
SIDEBAR_REFUNDS = 50
SIDEBAR_CASES = 10


def cases_visible_to(agent: Agent) -> QuerySet[SupportCase]:
    """Return the cases ``agent`` may see.

    Supervisors see every case. Agents see the cases of their teams, cases
    assigned to them, and cases that no team owns yet. The team condition
    is a subquery rather than a join, so no DISTINCT is needed and the
    queue's indexes stay usable.
    """
    cases = SupportCase.objects.all()
    if agent.is_supervisor:
        return cases
    team_ids = Membership.objects.filter(agent=agent).values("team_id")
    return cases.filter(
        Q(team_id__in=team_ids) | Q(assignee=agent) | Q(team__isnull=True)
    )


def case_for(agent: Agent, reference: str) -> SupportCase:
    """Return the case with ``reference`` if ``agent`` may see it, else 404."""
    pk = parse_case_reference(reference)
    if pk is None:
        raise Http404("No such case.")
    case = (
        cases_visible_to(agent)
        .select_related("team", "assignee", "customer", "order")
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise Http404("No such case.")
    return case


@dataclass(frozen=True)
class CustomerValue:
    """A customer's orders, payments and refunds in one currency."""

    currency: str
    orders: int
    paid: Money
    refunded: Money

    @property
    def refund_ratio(self) -> Decimal | None:
        """Return the refunded share of what was paid, 0 to 1, or None."""
        if not self.paid.minor:
            return None
        return Decimal(self.refunded.minor) / Decimal(self.paid.minor)


@dataclass
class CaseContext:
    """What the case page shows beside the thread."""

    messages: list[CaseMessage]
    refund: RefundRequest | None
    orders: list[Order]
    refunds: list[RefundRequest]
    earlier_cases: list[SupportCase]
    events: list[AuditEvent]
    tags: list[Tag]
    lifetime: list[CustomerValue]
    merges: list[CaseMerge]

    @property
    def order_count(self) -> int:
        return sum(value.orders for value in self.lifetime)


def case_context(case: SupportCase) -> CaseContext:
    """Load the thread, the customer's orders and history for the case page.

    The number of queries is fixed: the lists are limited and the totals
    are one aggregate, however many orders, refunds and cases there are.
    """
    messages = list(case.messages.select_related("author_agent"))
    refund = (
        RefundRequest.objects.filter(case=case)
        .select_related("order", "decided_by")
        .prefetch_related("lines__order_line")
        .first()
    )
    orders, refunds, earlier, lifetime = [], [], [], []
    if case.customer_id:
        orders = list(
            Order.objects.filter(customer_id=case.customer_id)
            .prefetch_related("lines")
            .order_by("-placed_at", "-id")[:SIDEBAR_ORDERS]
        )
        refunds = list(
            RefundRequest.objects.filter(customer_id=case.customer_id)
            .select_related("order")
            .order_by("-created_at")[:SIDEBAR_REFUNDS]
        )
        earlier = list(
            SupportCase.objects.filter(customer_id=case.customer_id)
            .exclude(pk=case.pk)
            .order_by("-created_at")[:SIDEBAR_CASES]
        )
        lifetime = customer_lifetime(case.customer_id)
    elif case.order_id:
        orders = list(Order.objects.filter(pk=case.order_id).prefetch_related("lines"))
    events = list(
        case.events.select_related("actor_user").order_by("occurred_at", "id")
    )
    merges = list(
        CaseMerge.objects.filter(target=case, undone_at__isnull=True)
        .select_related("source")
        .order_by("-merged_at")
    )
    tags = list(case.tags.order_by("name"))
    return CaseContext(
        messages, refund, orders, refunds, earlier, events, tags, lifetime, merges
    )


def customer_lifetime(customer_id: int) -> list[CustomerValue]:
    """Return what the customer paid and got back, per currency, in one query."""
    rows = (
        Order.objects.filter(customer_id=customer_id)
        .values("currency")
        .annotate(
            order_count=Count("id"),
            paid=Sum("paid_minor"),
            refunded=Sum(F("refunded_minor") + F("external_refunded_minor")),
        )
        .order_by("currency")
    )
    return [
        CustomerValue(
            currency=row["currency"],
            orders=row["order_count"],
            paid=Money(row["paid"] or 0, row["currency"]),
            refunded=Money(row["refunded"] or 0, row["currency"]),
        )
        for row in rows
    ]
