"""Reads for the agent pages. Every query starts from the agent who asks."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import Http404

from agents.models import Agent, Membership
from agents.roles import Role, role_of
from cases.models import (
    AuditEvent,
    CaseMerge,
    CaseMessage,
    Order,
    SupportCase,
    Tag,
    parse_case_reference,
)
from cases.shopify_export import order_number_key
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


def cases_of_teams(agent: Agent) -> QuerySet[SupportCase]:
    """Return the part of ``cases_visible_to`` that the agent's teams decide.

    Every agent with the same teams (and every supervisor) gets the same
    cases, so counts over them can be shared. The rest of the agent's
    visible cases is ``cases_assigned_outside_teams``, and the two parts
    never overlap.
    """
    cases = SupportCase.objects.all()
    if agent.is_supervisor:
        return cases
    team_ids = Membership.objects.filter(agent=agent).values("team_id")
    return cases.filter(Q(team_id__in=team_ids) | Q(team__isnull=True))


def cases_assigned_outside_teams(agent: Agent) -> QuerySet[SupportCase]:
    """Return the cases assigned to ``agent`` in teams that are not theirs."""
    if agent.is_supervisor:
        return SupportCase.objects.none()
    team_ids = Membership.objects.filter(agent=agent).values("team_id")
    return SupportCase.objects.filter(assignee=agent, team__isnull=False).exclude(
        team_id__in=team_ids
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
    messages = list(
        case.messages.select_related("author_agent").prefetch_related(
            "outbound_emails", "attachments"
        )
    )
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
            # Not "paid", which would shadow the Order.paid property.
            paid_total=Sum("paid_minor"),
            refunded=Sum(F("refunded_minor") + F("external_refunded_minor")),
        )
        .order_by("currency")
    )
    return [
        CustomerValue(
            currency=row["currency"],
            orders=row["order_count"],
            paid=Money(row["paid_total"] or 0, row["currency"]),
            refunded=Money(row["refunded"] or 0, row["currency"]),
        )
        for row in rows
    ]


def cases_visible_to_user(user) -> QuerySet[SupportCase]:
    """Return the cases that ``user`` may see through the API.

    Agents and supervisors see what ``cases_visible_to`` gives them, and
    integrations see every case. Users without a role see none.
    """
    role = role_of(user)
    if role in (Role.AGENT, Role.SUPERVISOR):
        return cases_visible_to(user.agent)
    if role == Role.INTEGRATION:
        return SupportCase.objects.all()
    return SupportCase.objects.none()


def case_messages_for_user(case: SupportCase, user) -> QuerySet[CaseMessage]:
    """Return the thread of ``case``, without internal notes for non-agents."""
    messages = case.messages.select_related("author_agent")
    if role_of(user) not in (Role.AGENT, Role.SUPERVISOR):
        messages = messages.exclude(kind=CaseMessage.Kind.NOTE)
    return messages


def orders_visible_to_user(user) -> QuerySet[Order]:
    """Return the orders ``user`` may look up: all of them for any role.

    Agents need to find any order a customer writes about, and integrations
    are the shop's own systems.
    """
    if role_of(user) is None:
        return Order.objects.none()
    # Amount requested by refund requests awaiting a decision, counted as the
    # refund form's eligibility check counts it, for the API's refundable amount.
    return Order.objects.annotate(
        pending_refund_minor=Coalesce(
            Sum(
                "refund_requests__requested_minor",
                filter=Q(refund_requests__status="requested"),
            ),
            0,
        )
    )


def case_for_user(user, reference: str) -> SupportCase:
    """Return the case with ``reference`` if ``user`` may see it, else 404.

    A case outside the user's scope gives the same 404 as an unknown one.
    """
    pk = parse_case_reference(reference)
    case = (
        cases_visible_to_user(user)
        .select_related("team", "assignee__user", "customer", "order")
        .filter(pk=pk)
        .first()
        if pk
        else None
    )
    if case is None:
        raise Http404("No such case.")
    return case


def order_for_user(user, number: str) -> Order | None:
    """Return the order numbered ``number`` (any case, '#' optional), or None."""
    return (
        orders_visible_to_user(user)
        .prefetch_related("lines__order")
        .filter(number_key=order_number_key(number))
        .first()
    )
