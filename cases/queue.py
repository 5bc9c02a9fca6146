"""Reads behind the queue page: its views, filters, sorting and counts.

A view is a named starting set (my cases, a team's queue, ...) that the
filters then narrow. Built-in views come from the agent's teams; saved
views are the agent's own query strings. Every read starts from the
requesting agent, through cases_visible_to().
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.db.models import Exists, F, OuterRef, QuerySet, Subquery
from django.http import QueryDict
from django.utils import timezone

from agents.models import Agent, Membership, Team
from cases import counts, search
from cases.assignment import URGENCY_ORDER
from cases.models import SavedView, SupportCase
from cases.selectors import (
    cases_assigned_outside_teams,
    cases_of_teams,
    cases_visible_to,
)
from refunds.models import RefundDecision, RefundRequest

# Cases whose SLA due time falls within this window are "breaching soon";
# cases already past it are included.
BREACHING_SOON = timedelta(hours=2)
MAX_SAVED_VIEWS = 20
# Name of the cached count of the agent's cases in teams that are not theirs.
OUTSIDE_TEAMS = "outside-teams"

SORTS = {
    "due": URGENCY_ORDER,
    "priority": (F("priority").desc(), F("created_at").asc(), F("id").asc()),
    "oldest": (F("created_at").asc(), F("id").asc()),
    "newest": (F("created_at").desc(), F("id").desc()),
    "updated": (F("updated_at").desc(), F("id").desc()),
    "relevance": (F("rank").desc(nulls_last=True), F("id").desc()),
}


@dataclass(frozen=True)
class QueueFilters:
    view: str = "all"  # "mine", "unassigned", "team-<id>", "refunds", ...
    status: str = "active"  # a status, "active" (open, pending, on hold) or "all"
    team: int | None = None
    assignee: str = "any"  # "me", "unassigned" or "any"
    priority: int | None = None
    tag: str = ""
    q: str = ""
    sort: str = "due"  # a key of SORTS; "relevance" needs q


@dataclass(frozen=True)
class QueueView:
    """One entry of the queue's list of views, with the link it opens."""

    key: str
    label: str
    query: str
    saved: SavedView | None = None


def visible_teams(agent: Agent) -> list[Team]:
    """Return the teams whose queues ``agent`` can open: all for supervisors."""
    teams = Team.objects.order_by("name")
    if not agent.is_supervisor:
        teams = teams.filter(memberships__agent=agent)
    return list(teams)


def builtin_views(teams: list[Team]) -> list[QueueView]:
    views = [
        QueueView("mine", "My open cases", "view=mine"),
        QueueView("unassigned", "Unassigned in my teams", "view=unassigned"),
    ]
    views += [
        QueueView(f"team-{team.pk}", f"{team.name} queue", f"view=team-{team.pk}")
        for team in teams
    ]
    views += [
        QueueView("refunds", "Refunds awaiting a decision", "view=refunds"),
        QueueView("breaching", "Breaching soon", "view=breaching"),
        QueueView("all", "All active cases", "view=all"),
    ]
    return views


def saved_views(agent: Agent) -> list[QueueView]:
    return [
        QueueView(f"saved-{view.pk}", view.name, view.query, saved=view)
        for view in SavedView.objects.filter(agent=agent)[:MAX_SAVED_VIEWS]
    ]


def queue_for(
    agent: Agent, filters: QueueFilters, *, now: datetime | None = None
) -> QuerySet[SupportCase]:
    """Return the cases of the queue page for ``filters``, in their sort order."""
    cases = _matching(agent, filters, now=now)
    sort = filters.sort if filters.sort != "relevance" or filters.q else "due"
    if filters.q:
        cases = search.filter_cases(cases, filters.q, ranked=sort == "relevance")
    if filters.view == "refunds":
        cases = _with_recommendation(cases)
    return (
        cases.select_related("team", "assignee", "customer", "order")
        .prefetch_related("tags")
        .order_by(*SORTS[sort])
    )


def _with_recommendation(cases: QuerySet[SupportCase]) -> QuerySet[SupportCase]:
    """Annotate each case with its agent's recommendation to a supervisor."""
    escalations = RefundDecision.objects.filter(
        refund__case=OuterRef("pk"),
        refund__status=RefundRequest.Status.REQUESTED,
        kind=RefundDecision.Kind.ESCALATED,
    ).order_by("-created_at", "-id")
    return cases.annotate(
        recommended_minor=Subquery(escalations.values("amount_minor")[:1]),
        recommended_currency=Subquery(escalations.values("currency")[:1]),
        recommended_by=Subquery(escalations.values("actor_name")[:1]),
    )


def count_for(
    agent: Agent,
    filters: QueueFilters,
    *,
    now: datetime | None = None,
    within: QuerySet[SupportCase] | None = None,
) -> int:
    """Count the cases of ``filters``, stopping at counts.COUNT_CAP + 1.

    ``within`` narrows the count to a part of the cases visible to the
    agent, such as ``cases_of_teams(agent)``.
    """
    cases = _matching(agent, filters, now=now, within=within)
    if filters.q:
        cases = search.filter_cases(cases, filters.q)
    return cases.order_by().values("pk")[: counts.COUNT_CAP + 1].count()


def _matching(
    agent: Agent,
    filters: QueueFilters,
    *,
    now: datetime | None,
    within: QuerySet[SupportCase] | None = None,
) -> QuerySet[SupportCase]:
    visible = cases_visible_to(agent) if within is None else within
    cases = _apply_view(visible, agent, filters.view, now)
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
    if filters.tag:
        cases = cases.filter(tags__name__iexact=filters.tag)
    return cases


def _apply_view(
    cases: QuerySet[SupportCase], agent: Agent, view: str, now: datetime | None
) -> QuerySet[SupportCase]:
    if view == "mine":
        return cases.filter(assignee=agent)
    if view == "unassigned":
        return cases.filter(assignee__isnull=True, team_id__in=_team_ids(agent))
    if view == "refunds":
        awaiting = RefundRequest.objects.filter(
            case=OuterRef("pk"), status=RefundRequest.Status.REQUESTED
        )
        return cases.filter(Exists(awaiting))
    if view == "breaching":
        return cases.filter(sla_due_at__lte=(now or timezone.now()) + BREACHING_SOON)
    team_id = team_of_view(view)
    if team_id is not None:
        return cases.filter(team_id=team_id)
    return cases


def team_of_view(view: str) -> int | None:
    """Return the team id of a ``team-<id>`` view, else None."""
    prefix, _, number = view.partition("-")
    return int(number) if prefix == "team" and number.isdigit() else None


def _team_ids(agent: Agent) -> Subquery:
    return Subquery(Membership.objects.filter(agent=agent).values("team_id"))


def count_scopes(agent: Agent, filters: QueueFilters, teams: list[Team]) -> list[str]:
    """Return the cache scopes whose changes can change this view's count."""
    scopes = _case_scopes(agent, filters, teams)
    if filters.q:
        scopes.append(counts.TEXT_SCOPE)
    return scopes


def _case_scopes(agent: Agent, filters: QueueFilters, teams: list[Team]) -> list[str]:
    team_id = team_of_view(filters.view)
    if _counts_own_cases(filters):
        return [counts.agent_scope(agent.pk)]
    if team_id is not None:
        return [counts.team_scope(team_id)]
    scopes = [counts.team_scope(team.pk) for team in teams]
    if filters.view != "unassigned":
        scopes += [counts.team_scope(None), counts.agent_scope(agent.pk)]
    return scopes


def _counts_own_cases(filters: QueueFilters) -> bool:
    return filters.view == "mine" or filters.assignee == "me"


def view_counts(
    agent: Agent,
    views: list[QueueView],
    teams: list[Team],
    parse: Callable[[QueryDict], QueueFilters],
) -> dict[str, int]:
    """Return the number of cases of each view, keyed by view key.

    ``parse`` turns a view's query string into QueueFilters. Counts come
    from the cache when none of their scopes changed since. A view of the
    agent's own cases is counted for the agent alone. Other views are
    counted over the cases of the agent's teams and shared with every agent
    in the same teams, so when a team's case changes, its agents count each
    view once between them, not once each. An agent who has cases assigned
    in other teams sees those too, so their views are counted for them
    alone.
    """
    now = timezone.now()
    team_owner = _team_owner(agent, teams)
    agent_owner = f"agent-{agent.pk}-{team_owner}"
    own: list[counts.CountRequest] = []
    alone: list[counts.CountRequest] = []
    shared: list[counts.CountRequest] = []
    for view in views:
        filters = parse(QueryDict(view.query))
        timed = filters.view == "breaching"
        scopes = count_scopes(agent, filters, teams)
        request = (
            view.query,
            scopes,
            timed,
            partial(count_for, agent, filters, now=now),
        )
        if _counts_own_cases(filters):
            own.append(request)
            continue
        alone.append(request)
        agent_scope = counts.agent_scope(agent.pk)
        shared.append(
            (
                view.query,
                [scope for scope in scopes if scope != agent_scope],
                timed,
                partial(
                    count_for, agent, filters, now=now, within=cases_of_teams(agent)
                ),
            )
        )
    own.append(
        (
            OUTSIDE_TEAMS,
            [counts.agent_scope(agent.pk)],
            False,
            cases_assigned_outside_teams(agent).count,
        )
    )
    numbers = counts.cached_counts(agent_owner, own)
    if numbers[OUTSIDE_TEAMS]:
        numbers |= counts.cached_counts(agent_owner, alone)
    else:
        numbers |= counts.cached_counts(team_owner, shared)
    return {view.key: numbers[view.query] for view in views}


def _team_owner(agent: Agent, teams: list[Team]) -> str:
    """Return the cache owner of counts shared by agents with the same teams."""
    if agent.is_supervisor:
        member_ids = Membership.objects.filter(agent=agent).values_list(
            "team_id", flat=True
        )
        return "supervisors-" + "-".join(str(pk) for pk in sorted(member_ids))
    return "teams-" + "-".join(str(pk) for pk in sorted(team.pk for team in teams))
