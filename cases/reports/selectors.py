"""Queries for the supervisors' reports: cases, refunds and agents in a period.

Every figure is aggregated in the database, so the number of queries stays
the same whatever the number of cases, refunds or messages. Durations are
wall-clock time, because the business-hours arithmetic in cases/sla.py runs
in Python for one case at a time and cannot be aggregated in a query. SLA
breaches do follow business hours, because they compare with the due times
that cases/sla.py stored on each case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import cast

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum, Value

from agents.models import Agent, Membership, Team
from cases.models import AuditEvent, CaseMessage, SupportCase
from cases.reports.durations import DurationStats, duration_percentiles
from cases.reports.forms import ReportPeriod
from cases.sla import RUNNING_STATUSES
from cases.surveys.selectors import survey_results
from refunds.models import RefundDecision, RefundRequest
from supportdesk.money import Money

Status = SupportCase.Status
Kind = RefundDecision.Kind
Level = RefundDecision.Level


def share(part: int, whole: int) -> Decimal | None:
    """Return ``part`` as a percentage of ``whole`` to one decimal, or None if 0."""
    if not whole:
        return None
    return (Decimal(100 * part) / whole).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _between(name: str, period: ReportPeriod) -> Q:
    return Q(**{f"{name}__gte": period.start, f"{name}__lt": period.end})


def _team_cases(team: Team | None) -> QuerySet[SupportCase]:
    cases = SupportCase.objects.all()
    return cases if team is None else cases.filter(team=team)


def _target_missed(*, met_at: str, due_at: str, now: datetime) -> Q:
    """Match cases that met a target after its due time, or not by ``now``.

    A case not met yet counts only while its SLA clock runs, because a
    pending case's stored due time is stale until the clock runs again.
    """
    return Q(**{f"{due_at}__isnull": False}) & (
        Q(**{f"{met_at}__gt": F(due_at)})
        | Q(
            **{f"{met_at}__isnull": True, f"{due_at}__lt": now},
            status__in=RUNNING_STATUSES,
        )
    )


def first_response_breached(now: datetime) -> Q:
    """Match cases whose first reply came late, or has not come by ``now``."""
    return _target_missed(
        met_at="first_response_at", due_at="first_response_due_at", now=now
    )


def resolution_breached(now: datetime) -> Q:
    """Match cases solved late, or not solved by ``now``."""
    return _target_missed(met_at="solved_at", due_at="resolution_due_at", now=now)


@dataclass(frozen=True)
class CaseCounts:
    """Counts of cases in a period, for all channels or for one."""

    created: int = 0
    solved: int = 0
    # Created in the period and replied to by an agent at least once.
    answered: int = 0
    first_response_targets: int = 0
    first_response_breaches: int = 0
    resolution_targets: int = 0
    resolution_breaches: int = 0

    def __add__(self, other: CaseCounts) -> CaseCounts:
        return CaseCounts(
            **{
                name: getattr(self, name) + getattr(other, name)
                for name in self.__dataclass_fields__
            }
        )


@dataclass(frozen=True)
class CaseFigures:
    counts: CaseCounts
    by_channel: dict[str, CaseCounts]
    # Distinct cases that went from solved back to open in the period.
    reopened: int
    # Cases open, pending or on hold now, by status, whatever the period.
    backlog: dict[str, int]
    first_response: DurationStats
    resolution: DurationStats


def case_figures(
    *, period: ReportPeriod, team: Team | None, now: datetime
) -> CaseFigures:
    """Compute the case figures of ``period``, for ``team`` or every team."""
    cases = _team_cases(team)
    created = _between("created_at", period)
    solved = _between("solved_at", period)
    channel_rows = (
        cases.filter(created | solved)
        .values("channel")
        .annotate(
            created=Count("pk", filter=created),
            solved=Count("pk", filter=solved),
            answered=Count("pk", filter=created & Q(first_response_at__isnull=False)),
            first_response_targets=Count(
                "pk", filter=created & Q(first_response_due_at__isnull=False)
            ),
            first_response_breaches=Count(
                "pk", filter=created & first_response_breached(now)
            ),
            resolution_targets=Count(
                "pk", filter=created & Q(resolution_due_at__isnull=False)
            ),
            resolution_breaches=Count("pk", filter=created & resolution_breached(now)),
        )
        .order_by()
    )
    by_channel = {channel: CaseCounts() for channel in SupportCase.Channel.values}
    for channel_row in channel_rows:
        by_channel[channel_row["channel"]] = CaseCounts(
            created=channel_row["created"],
            solved=channel_row["solved"],
            answered=channel_row["answered"],
            first_response_targets=channel_row["first_response_targets"],
            first_response_breaches=channel_row["first_response_breaches"],
            resolution_targets=channel_row["resolution_targets"],
            resolution_breaches=channel_row["resolution_breaches"],
        )

    reopened = AuditEvent.objects.filter(
        _between("occurred_at", period),
        action="cases.case.status_changed",
        changes__status__0=Status.SOLVED,
        changes__status__1=Status.OPEN,
    )
    if team is not None:
        reopened = reopened.filter(case__team=team)
    backlog: dict[str, int] = {status: 0 for status in SupportCase.ACTIVE_STATUSES}
    backlog_rows = (
        cases.filter(status__in=SupportCase.ACTIVE_STATUSES)
        .values("status")
        .annotate(count=Count("pk"))
        .order_by()
    )
    for backlog_row in backlog_rows:
        backlog[backlog_row["status"]] = backlog_row["count"]

    first_response = duration_percentiles(
        cases.filter(created, first_response_at__isnull=False),
        F("first_response_at") - F("created_at"),
    )
    resolution = duration_percentiles(
        cases.filter(solved), F("solved_at") - F("created_at")
    )
    return CaseFigures(
        counts=sum(by_channel.values(), CaseCounts()),
        by_channel=by_channel,
        reopened=reopened.aggregate(cases=Count("case", distinct=True))["cases"],
        backlog=backlog,
        first_response=first_response.get(None, DurationStats(count=0)),
        resolution=resolution.get(None, DurationStats(count=0)),
    )


@dataclass
class CurrencyAmounts:
    """Refund money of one currency in a period, in minor units."""

    currency: str
    requests: int = 0
    requested_minor: int = 0
    approved_minor: int = 0
    refunded_minor: int = 0

    def money(self, minor: int) -> Money:
        return Money(minor, self.currency)


@dataclass(frozen=True)
class RefundFigures:
    # Refund requests filed in the period.
    requested: int
    # Decisions taken in the period: approvals by level, then other kinds.
    approved_by_level: dict[str, int]
    rejected: int
    refunded: int
    cancelled: int
    amounts: list[CurrencyAmounts]
    # (reason code, count of requests), most frequent first.
    reasons: list[tuple[str, int]]

    @property
    def approved(self) -> int:
        return sum(self.approved_by_level.values())

    @property
    def approval_rate(self) -> Decimal | None:
        """Return approvals as a share of approvals and rejections, in percent."""
        return share(self.approved, self.approved + self.rejected)


def refund_figures(*, period: ReportPeriod, team: Team | None) -> RefundFigures:
    """Compute the refund requests filed and decisions taken in ``period``.

    With ``team``, only refunds whose case belongs to that team count.
    """
    requests = RefundRequest.objects.filter(_between("created_at", period))
    decisions = RefundDecision.objects.filter(
        _between("created_at", period),
        kind__in=[Kind.APPROVED, Kind.REJECTED, Kind.REFUNDED, Kind.CANCELLED],
    )
    if team is not None:
        requests = requests.filter(case__team=team)
        decisions = decisions.filter(refund__case__team=team)

    amounts: dict[str, CurrencyAmounts] = {}
    request_rows = (
        requests.values("currency")
        .annotate(count=Count("pk"), amount=Sum("requested_minor"))
        .order_by()
    )
    for row in request_rows:
        entry = amounts.setdefault(row["currency"], CurrencyAmounts(row["currency"]))
        entry.requests = row["count"]
        entry.requested_minor = int(row["amount"])

    by_kind = {kind: 0 for kind in Kind.values}
    approved_by_level: dict[str, int] = {
        Level.SYSTEM: 0,
        Level.AGENT: 0,
        Level.SUPERVISOR: 0,
    }
    decision_rows = (
        decisions.values("kind", "level", "currency")
        # "amount" would shadow the RefundDecision.amount property.
        .annotate(count=Count("pk"), total_minor=Sum("amount_minor"))
        .order_by()
    )
    for decision_row in decision_rows:
        kind, currency = decision_row["kind"], decision_row["currency"]
        by_kind[kind] += decision_row["count"]
        entry = amounts.setdefault(currency, CurrencyAmounts(currency))
        if kind == Kind.APPROVED:
            level = decision_row["level"]
            approved_by_level[level] = (
                approved_by_level.get(level, 0) + decision_row["count"]
            )
            entry.approved_minor += int(decision_row["total_minor"] or 0)
        elif kind == Kind.REFUNDED:
            entry.refunded_minor += int(decision_row["total_minor"] or 0)

    reasons = (
        requests.values("reason_code")
        .annotate(count=Count("pk"))
        .order_by("-count", "reason_code")
    )
    return RefundFigures(
        requested=sum(entry.requests for entry in amounts.values()),
        approved_by_level=approved_by_level,
        rejected=by_kind[Kind.REJECTED],
        refunded=by_kind[Kind.REFUNDED],
        cancelled=by_kind[Kind.CANCELLED],
        amounts=sorted(amounts.values(), key=lambda entry: entry.currency),
        reasons=[(row["reason_code"], row["count"]) for row in reasons],
    )


@dataclass
class AgentFigures:
    """One agent's work in a period."""

    agent_id: int
    name: str
    solved: int = 0
    replies: int = 0
    first_response: DurationStats = field(
        default_factory=lambda: DurationStats(count=0)
    )
    refunds_decided: int = 0
    # Minor units approved, per currency.
    approved_minor: dict[str, int] = field(default_factory=dict)
    # The agent's row of cases.surveys.selectors.survey_results, if any.
    surveys: dict | None = None

    @property
    def approved(self) -> list[Money]:
        return [
            Money(minor, currency) for currency, minor in self.approved_minor.items()
        ]


def agent_figures(*, period: ReportPeriod, team: Team | None) -> list[AgentFigures]:
    """Compute the figures of each agent in ``team`` or active in ``period``.

    Cases count for their assignee: solved in the period, and first
    responses of cases created in the period. Replies count for their
    author, refund approvals and rejections for the agent who decided.
    With ``team``, only work on that team's cases counts, and CSAT only
    from that team's surveys.
    """
    cases = _team_cases(team).filter(assignee__isnull=False)
    # Without a team every agent gets a row, so in_team is constant.
    in_team = (
        Value(True)
        if team is None
        else Exists(Membership.objects.filter(agent=OuterRef("pk"), team=team))
    )
    agents = Agent.objects.order_by("display_name", "pk").annotate(in_team=in_team)
    names: dict[int, str] = {}
    rows: dict[int, AgentFigures] = {}
    for agent in agents:
        names[agent.pk] = agent.display_name
        if agent.in_team:
            rows[agent.pk] = AgentFigures(agent_id=agent.pk, name=agent.display_name)

    def row_for(agent_id: int) -> AgentFigures:
        if agent_id not in rows:
            rows[agent_id] = AgentFigures(agent_id=agent_id, name=names[agent_id])
        return rows[agent_id]

    solved = (
        cases.filter(_between("solved_at", period))
        .values("assignee")
        .annotate(count=Count("pk"))
        .order_by()
    )
    for solved_row in solved:
        row_for(solved_row["assignee"]).solved = solved_row["count"]

    replies = CaseMessage.objects.filter(
        _between("created_at", period),
        kind=CaseMessage.Kind.REPLY,
        author_agent__isnull=False,
    )
    if team is not None:
        replies = replies.filter(case__team=team)
    reply_rows = replies.values("author_agent").annotate(count=Count("pk")).order_by()
    for reply_row in reply_rows:
        row_for(reply_row["author_agent"]).replies = reply_row["count"]

    first_responses = duration_percentiles(
        cases.filter(_between("created_at", period), first_response_at__isnull=False),
        F("first_response_at") - F("created_at"),
        ranks=(50,),
        group_by="assignee",
    )
    for assignee_id, stats in first_responses.items():
        # Keys are assignee ids, never None, because cases without one are
        # filtered out above.
        row_for(cast(int, assignee_id)).first_response = stats

    decisions = RefundDecision.objects.filter(
        _between("created_at", period),
        kind__in=[Kind.APPROVED, Kind.REJECTED],
        actor_user__agent__isnull=False,
    )
    if team is not None:
        decisions = decisions.filter(refund__case__team=team)
    decision_rows = (
        decisions.values("actor_user__agent", "currency")
        .annotate(
            count=Count("pk"),
            approved=Sum("amount_minor", filter=Q(kind=Kind.APPROVED)),
        )
        .order_by("currency")
    )
    for decision_row in decision_rows:
        figures = row_for(decision_row["actor_user__agent"])
        figures.refunds_decided += decision_row["count"]
        if decision_row["approved"]:
            figures.approved_minor[decision_row["currency"]] = int(
                decision_row["approved"]
            )

    for survey_row in survey_results(
        "agent", period.start, until=period.end, team=team
    ):
        if survey_row["id"] is not None:
            row_for(survey_row["id"]).surveys = survey_row

    return sorted(rows.values(), key=lambda row: (row.name.casefold(), row.agent_id))
