"""Reads for the agent pages. Every query starts from the agent who asks."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404

from agents.models import Agent
from agents.roles import Role, role_of
from cases.models import (
    AuditEvent,
    CaseMessage,
    Order,
    SupportCase,
    parse_case_reference,
)
from cases.shopify_export import order_number_key
from refunds.models import RefundRequest


def cases_visible_to(agent: Agent) -> QuerySet[SupportCase]:
    """Return the cases ``agent`` may see.

    Supervisors see every case. Agents see the cases of their teams, cases
    assigned to them, and cases that no team owns yet.
    """
    cases = SupportCase.objects.all()
    if agent.is_supervisor:
        return cases
    return cases.filter(
        Q(team__memberships__agent=agent) | Q(assignee=agent) | Q(team__isnull=True)
    ).distinct()


@dataclass(frozen=True)
class QueueFilters:
    status: str = "active"  # a status, "active" (open, pending, on hold) or "all"
    team: int | None = None
    assignee: str = "any"  # "me", "unassigned" or "any"
    priority: int | None = None
    sort: str = "priority"  # "priority", "oldest", "newest" or "updated"


SORTS = {
    "priority": ("-priority", "created_at", "id"),
    "oldest": ("created_at", "id"),
    "newest": ("-created_at", "-id"),
    "updated": ("-updated_at", "-id"),
}


def queue_for(agent: Agent, filters: QueueFilters) -> QuerySet[SupportCase]:
    cases = cases_visible_to(agent)
    if filters.status == "active":
        cases = cases.filter(status__in=SupportCase.ACTIVE_STATUSES)
    elif filters.status != "all":
        cases = cases.filter(status=filters.status)
    if filters.team is not None:
        cases = cases.filter(team_id=filters.team)
    if filters.assignee == "me":
        cases = cases.filter(assignee=agent)
    elif filters.assignee == "unassigned":
        cases = cases.filter(assignee__isnull=True)
    if filters.priority is not None:
        cases = cases.filter(priority=filters.priority)
    return cases.select_related("team", "assignee", "customer", "order").order_by(
        *SORTS[filters.sort]
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


@dataclass
class CaseContext:
    """What the case page shows beside the thread."""

    messages: list[CaseMessage]
    refund: RefundRequest | None
    orders: list[Order]
    refunds: list[RefundRequest]
    earlier_cases: list[SupportCase]
    events: list[AuditEvent]


def case_context(case: SupportCase) -> CaseContext:
    """Load the thread, the customer's orders and history for the case page."""
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
    orders, refunds, earlier = [], [], []
    if case.customer_id:
        orders = list(
            Order.objects.filter(customer_id=case.customer_id)
            .prefetch_related("lines")
            .order_by("-placed_at")[:10]
        )
        refunds = list(
            RefundRequest.objects.filter(customer_id=case.customer_id)
            .select_related("order")
            .order_by("-created_at")[:20]
        )
        earlier = list(
            SupportCase.objects.filter(customer_id=case.customer_id)
            .exclude(pk=case.pk)
            .order_by("-created_at")[:10]
        )
    elif case.order_id:
        orders = list(Order.objects.filter(pk=case.order_id).prefetch_related("lines"))
    events = list(
        case.events.select_related("actor_user").order_by("occurred_at", "id")
    )
    return CaseContext(messages, refund, orders, refunds, earlier, events)


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
    return Order.objects.all()


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
