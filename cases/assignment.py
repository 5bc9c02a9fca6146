"""Routing of waiting cases to agents: take next, team rules, agent status.

A case is waiting when it is open and unassigned. Waiting cases go out
most urgent first: the earliest SLA due time, then the highest priority,
then the oldest. Two guards make every hand-out atomic on both databases:
the waiting case is read with ``SELECT ... FOR UPDATE SKIP LOCKED`` (on
SQLite, where that is a no-op, transactions are IMMEDIATE and so run one
at a time), and the claim itself is an UPDATE that only succeeds while the
case is still unassigned.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import partial

from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from agents.models import Agent, Membership, Team
from cases import counts
from cases.audit import Actor, record_event
from cases.models import SupportCase
from supportdesk.errors import PermissionDenied, StateConflict

logger = logging.getLogger(__name__)

WAITING = Q(status=SupportCase.Status.OPEN, assignee__isnull=True)
URGENCY_ORDER = (
    F("sla_due_at").asc(nulls_last=True),
    F("priority").desc(),
    F("created_at").asc(),
    F("id").asc(),
)
# Cases one dispatch run hands out at most; the next change runs it again.
DISPATCH_BATCH = 50


class NothingWaiting(StateConflict):
    """No case is waiting in the agent's teams."""

    code = "nothing_waiting"


class CapReached(StateConflict):
    """The agent already has the maximum number of open cases."""

    code = "cap_reached"


def waiting_cases(team_ids: Iterable[int]) -> QuerySet[SupportCase]:
    """Return the waiting cases of ``team_ids``, most urgent first."""
    return SupportCase.objects.filter(WAITING, team_id__in=list(team_ids)).order_by(
        *URGENCY_ORDER
    )


def open_case_count(agent: Agent) -> int:
    """Count the open cases assigned to ``agent``; the team caps limit this."""
    return SupportCase.objects.filter(
        assignee=agent, status=SupportCase.Status.OPEN
    ).count()


def _under_cap(team: Team, load: int) -> bool:
    cap = team.max_open_cases_per_agent
    return cap is None or load < cap


def case_take_next(*, agent: Agent, actor: Actor) -> SupportCase:
    """Assign ``agent`` the most urgent waiting case of their teams.

    Teams whose cap the agent has reached are skipped. Raises NothingWaiting
    or CapReached when there is nothing to give.
    """
    with transaction.atomic():
        # Locking the agent makes one agent's own requests queue up, so a
        # double press cannot take two cases past the cap.
        agent = Agent.objects.select_for_update().get(pk=agent.pk)
        teams = [m.team for m in agent.memberships.select_related("team")]
        if not teams:
            raise NothingWaiting(
                "You are not in any team, so there is no queue to take from. Ask "
                "a supervisor to add you to a team."
            )
        load = open_case_count(agent)
        team_ids = [team.pk for team in teams if _under_cap(team, load)]
        if not team_ids:
            raise CapReached(
                f"You have {load} open cases, the maximum for your teams. Solve, "
                "set pending or hand back a case before taking the next one."
            )
        case = _claim_next(team_ids, agent)
        if case is None:
            raise NothingWaiting("No case is waiting in your teams right now.")
        record_event(
            action="cases.case.assigned",
            actor=actor,
            target=case,
            case=case,
            reason="Take next",
            changes={"assignee": [None, agent.display_name]},
        )
    logger.info(
        "Case %s taken by agent %s",
        case.reference,
        agent.pk,
        extra={"case": case.reference, "agent": agent.pk},
    )
    return case


def _claim_next(team_ids: list[int], agent: Agent) -> SupportCase | None:
    """Assign the first waiting case of ``team_ids`` to ``agent``; return it."""
    while True:
        case = (
            waiting_cases(team_ids)
            .select_for_update(skip_locked=True, of=("self",))
            .first()
        )
        if case is None:
            return None
        if _claim(case, agent):
            return case


def _claim(case: SupportCase, agent: Agent) -> bool:
    """Give the waiting ``case`` to ``agent``; False if someone took it first."""
    now = timezone.now()
    claimed = SupportCase.objects.filter(WAITING, pk=case.pk).update(
        assignee=agent, version=F("version") + 1, updated_at=now
    )
    if not claimed:
        return False
    case.assignee, case.updated_at = agent, now
    case.version += 1
    counts.invalidate(team_ids=[case.team_id], agent_ids=[agent.pk])
    return True


def schedule_dispatch(team_ids: Iterable[int | None]) -> None:
    """Run the automatic assignment of ``team_ids`` after the commit."""
    pending = {pk for pk in team_ids if pk is not None}
    for team_id in sorted(pending):
        transaction.on_commit(partial(team_dispatch, team_id=team_id))


def team_dispatch(*, team_id: int) -> list[SupportCase]:
    """Hand the team's waiting cases to available agents by its assignment mode.

    Round robin gives each case to the available member who has waited
    longest since their last automatic case; least loaded to the one with
    the fewest open cases. Members at the team's cap get nothing. Manual
    teams are left alone.
    """
    assigned: list[SupportCase] = []
    with transaction.atomic():
        team = (
            Team.objects.select_for_update()
            .exclude(assignment_mode=Team.AssignmentMode.MANUAL)
            .filter(pk=team_id)
            .first()
        )
        if team is None:
            return assigned
        for _ in range(DISPATCH_BATCH):
            case = (
                waiting_cases([team.pk])
                .select_for_update(skip_locked=True, of=("self",))
                .first()
            )
            if case is None:
                break
            membership = _pick_member(team)
            if membership is None:
                break
            if not _claim(case, membership.agent):
                continue
            Membership.objects.filter(pk=membership.pk).update(
                last_assigned_at=case.updated_at
            )
            record_event(
                action="cases.case.assigned",
                actor=Actor.system("Automatic assignment"),
                target=case,
                case=case,
                reason=team.get_assignment_mode_display(),
                changes={"assignee": [None, membership.agent.display_name]},
            )
            assigned.append(case)
    if assigned:
        logger.info(
            "Assigned %s waiting cases of team %s",
            len(assigned),
            team.pk,
            extra={"team": team.pk},
        )
    return assigned


def _pick_member(team: Team) -> Membership | None:
    """Return the membership of the agent who gets the team's next case."""
    members = (
        Membership.objects.filter(team=team, agent__status=Agent.Status.AVAILABLE)
        .select_related("agent")
        .annotate(
            load=Count(
                "agent__assigned_cases",
                filter=Q(agent__assigned_cases__status=SupportCase.Status.OPEN),
            )
        )
    )
    if team.max_open_cases_per_agent is not None:
        members = members.filter(load__lt=team.max_open_cases_per_agent)
    waited_longest = (F("last_assigned_at").asc(nulls_first=True), F("agent_id").asc())
    if team.assignment_mode == Team.AssignmentMode.LEAST_LOADED:
        members = members.order_by(F("load").asc(), *waited_longest)
    else:
        members = members.order_by(*waited_longest)
    for membership in members[:5]:
        # Lock the agent and count again: another team's dispatch may have
        # given them a case since the query above.
        agent = Agent.objects.select_for_update().get(pk=membership.agent_id)
        if agent.status == Agent.Status.AVAILABLE and _under_cap(
            team, open_case_count(agent)
        ):
            membership.agent = agent
            return membership
    return None


def agent_change_status(
    *, agent: Agent, actor: Actor, status: str, return_cases: bool = False
) -> list[SupportCase]:
    """Set ``agent``'s status; return the cases handed back to the queue.

    With ``return_cases`` and the offline status, the agent's open, pending
    and on-hold cases lose their assignee and go back to their team's
    queue, where automatic assignment can give them to someone else. An
    agent changes their own status; a supervisor changes anyone's.
    """
    acting = actor.agent
    if acting is None or (acting.pk != agent.pk and not acting.is_supervisor):
        raise PermissionDenied("Only the agent or a supervisor can change a status.")
    if status not in Agent.Status.values:
        raise StateConflict(f"{status!r} is not an agent status.")
    # The assignment service checks take-over rules and writes the audit
    # entries; it imports this module, hence the late import.
    from cases.services import case_assign

    returned: list[SupportCase] = []
    with transaction.atomic():
        agent = Agent.objects.select_for_update().get(pk=agent.pk)
        old = agent.status
        if old != status:
            agent.status = status
            agent.status_changed_at = timezone.now()
            agent.save(update_fields=["status", "status_changed_at"])
            record_event(
                action="agents.agent.status_changed",
                actor=actor,
                target=agent,
                changes={"status": [old, status]},
            )
        if return_cases and status == Agent.Status.OFFLINE:
            owned = SupportCase.objects.filter(
                assignee=agent, status__in=SupportCase.ACTIVE_STATUSES
            ).order_by("pk")
            for case in owned:
                returned.append(
                    case_assign(
                        case=case,
                        actor=actor,
                        assignee=None,
                        reason=f"Returned to the queue: {agent.display_name} is "
                        "offline.",
                    )
                )
        if status == Agent.Status.AVAILABLE and old != status:
            schedule_dispatch(agent.memberships.values_list("team_id", flat=True))
    logger.info(
        "Agent %s is %s; %s cases returned",
        agent.pk,
        status,
        len(returned),
        extra={"agent": agent.pk},
    )
    return returned
