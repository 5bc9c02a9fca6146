"""Take next, automatic assignment per team, caps and agent status."""

from datetime import UTC, datetime, timedelta

import pytest

from agents.models import Agent, Membership, Team
from cases import services
from cases.assignment import (
    CapReached,
    NothingWaiting,
    agent_change_status,
    case_take_next,
    team_dispatch,
)
from cases.audit import Actor
from cases.models import AuditEvent, SupportCase
from cases.tests.factories import make_case
from supportdesk.errors import PermissionDenied

T0 = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


def take(agent: Agent) -> SupportCase:
    return case_take_next(agent=agent, actor=Actor.for_agent(agent))


def test_take_next_prefers_earliest_sla_due(agent, refunds_team):
    later = make_case(refunds_team, at=T0)
    sooner = make_case(refunds_team, at=T0 + timedelta(minutes=5))
    SupportCase.objects.filter(pk=later.pk).update(sla_due_at=T0 + timedelta(hours=4))
    SupportCase.objects.filter(pk=sooner.pk).update(sla_due_at=T0 + timedelta(hours=1))

    taken = take(agent)

    assert taken.pk == sooner.pk
    assert SupportCase.objects.get(pk=sooner.pk).assignee == agent


def test_take_next_then_priority_then_age(agent, refunds_team):
    old_normal = make_case(refunds_team, at=T0)
    new_urgent = make_case(
        refunds_team, priority=SupportCase.Priority.URGENT, at=T0 + timedelta(hours=1)
    )
    older_urgent = make_case(
        refunds_team, priority=SupportCase.Priority.URGENT, at=T0 + timedelta(minutes=1)
    )

    order = [take(agent).pk for _ in range(3)]

    assert order == [older_urgent.pk, new_urgent.pk, old_normal.pk]


def test_take_next_case_with_due_time_beats_one_without(agent, refunds_team):
    urgent_no_target = make_case(refunds_team, priority=SupportCase.Priority.URGENT)
    with_target = make_case(refunds_team)
    SupportCase.objects.filter(pk=with_target.pk).update(sla_due_at=T0)

    assert take(agent).pk == with_target.pk
    assert take(agent).pk == urgent_no_target.pk


def test_take_next_skips_other_teams_assigned_and_pending(
    agent, make_agent, refunds_team, general_team
):
    other = make_agent("Olga Other")
    make_case(general_team)
    owned = make_case(refunds_team)
    services.case_assign(case=owned, actor=Actor.for_agent(other), assignee=other)
    pending = make_case(refunds_team)
    services.case_change_status(
        case=pending, actor=Actor.for_agent(other), status="pending"
    )

    with pytest.raises(NothingWaiting):
        take(agent)

    assert SupportCase.objects.filter(assignee=agent).count() == 0


def test_take_next_records_one_assignment_event(agent, refunds_team):
    case = make_case(refunds_team)

    take(agent)

    events = AuditEvent.objects.filter(case=case, action="cases.case.assigned")
    assert [e.reason for e in events] == ["Take next"]
    assert events[0].changes == {"assignee": [None, agent.display_name]}


def test_take_next_raises_the_version(agent, refunds_team):
    case = make_case(refunds_team)

    taken = take(agent)

    assert taken.version == case.version + 1
    assert SupportCase.objects.get(pk=case.pk).version == case.version + 1


def test_take_next_respects_the_team_cap(agent, refunds_team):
    refunds_team.max_open_cases_per_agent = 1
    refunds_team.save()
    make_case(refunds_team)
    waiting = make_case(refunds_team)
    take(agent)

    with pytest.raises(CapReached, match="1 open cases"):
        take(agent)

    assert SupportCase.objects.get(pk=waiting.pk).assignee is None


def test_take_next_without_team_explains(make_agent):
    loner = make_agent("Lone Agent", teams=[])

    with pytest.raises(NothingWaiting, match="not in any team"):
        take(loner)


@pytest.fixture
def round_robin_team(db) -> Team:
    return Team.objects.create(
        name="Round", slug="round", assignment_mode=Team.AssignmentMode.ROUND_ROBIN
    )


def test_round_robin_takes_turns(
    make_agent, round_robin_team, django_capture_on_commit_callbacks
):
    first = make_agent("First", teams=[round_robin_team])
    second = make_agent("Second", teams=[round_robin_team])

    with django_capture_on_commit_callbacks(execute=True):
        cases = [make_case(round_robin_team) for _ in range(3)]

    owners = [SupportCase.objects.get(pk=c.pk).assignee for c in cases]
    assert owners == [first, second, first]
    actions = AuditEvent.objects.filter(
        action="cases.case.assigned", actor_name="Automatic assignment"
    )
    assert actions.count() == 3


def test_least_loaded_picks_fewest_open_cases(
    make_agent, round_robin_team, django_capture_on_commit_callbacks
):
    round_robin_team.assignment_mode = Team.AssignmentMode.LEAST_LOADED
    round_robin_team.save()
    busy = make_agent("Busy", teams=[round_robin_team])
    idle = make_agent("Idle", teams=[round_robin_team])
    for _ in range(2):
        case = make_case(None)
        services.case_assign(case=case, actor=Actor.for_agent(busy), assignee=busy)

    with django_capture_on_commit_callbacks(execute=True):
        new = make_case(round_robin_team)

    assert SupportCase.objects.get(pk=new.pk).assignee == idle


def test_dispatch_skips_away_and_offline_agents(
    make_agent, round_robin_team, django_capture_on_commit_callbacks
):
    away = make_agent("Away", teams=[round_robin_team])
    Agent.objects.filter(pk=away.pk).update(status=Agent.Status.AWAY)

    with django_capture_on_commit_callbacks(execute=True):
        case = make_case(round_robin_team)

    assert SupportCase.objects.get(pk=case.pk).assignee is None


def test_manual_team_is_not_dispatched(agent, refunds_team):
    make_case(refunds_team)

    assert team_dispatch(team_id=refunds_team.pk) == []


def test_freed_capacity_takes_most_urgent_waiting_case(
    make_agent, round_robin_team, django_capture_on_commit_callbacks
):
    round_robin_team.max_open_cases_per_agent = 1
    round_robin_team.save()
    agent = make_agent("Capped", teams=[round_robin_team])
    with django_capture_on_commit_callbacks(execute=True):
        first = make_case(round_robin_team, at=T0)
    with django_capture_on_commit_callbacks(execute=True):
        old_low = make_case(round_robin_team, priority=1, at=T0 + timedelta(minutes=1))
        new_high = make_case(round_robin_team, priority=3, at=T0 + timedelta(minutes=2))
    assert SupportCase.objects.get(pk=first.pk).assignee == agent
    assert SupportCase.objects.filter(assignee=agent).count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        services.case_change_status(
            case=first, actor=Actor.for_agent(agent), status="solved"
        )

    assert SupportCase.objects.get(pk=new_high.pk).assignee == agent
    assert SupportCase.objects.get(pk=old_low.pk).assignee is None


def test_becoming_available_dispatches_waiting_cases(
    make_agent, round_robin_team, django_capture_on_commit_callbacks
):
    agent = make_agent("Late", teams=[round_robin_team])
    Agent.objects.filter(pk=agent.pk).update(status=Agent.Status.OFFLINE)
    with django_capture_on_commit_callbacks(execute=True):
        case = make_case(round_robin_team)
    assert SupportCase.objects.get(pk=case.pk).assignee is None

    with django_capture_on_commit_callbacks(execute=True):
        agent_change_status(
            agent=agent, actor=Actor.for_agent(agent), status=Agent.Status.AVAILABLE
        )

    assert SupportCase.objects.get(pk=case.pk).assignee == agent
    assert Membership.objects.get(agent=agent).last_assigned_at is not None


def test_going_offline_returns_cases_to_the_queue(
    make_agent, round_robin_team, django_capture_on_commit_callbacks
):
    leaving = make_agent("Leaving", teams=[round_robin_team])
    staying = make_agent("Staying", teams=[round_robin_team])
    Agent.objects.filter(pk=staying.pk).update(status=Agent.Status.AWAY)
    with django_capture_on_commit_callbacks(execute=True):
        case = make_case(round_robin_team)
    assert SupportCase.objects.get(pk=case.pk).assignee == leaving
    Agent.objects.filter(pk=staying.pk).update(status=Agent.Status.AVAILABLE)

    with django_capture_on_commit_callbacks(execute=True):
        returned = agent_change_status(
            agent=leaving,
            actor=Actor.for_agent(leaving),
            status=Agent.Status.OFFLINE,
            return_cases=True,
        )

    assert [c.pk for c in returned] == [case.pk]
    assert SupportCase.objects.get(pk=case.pk).assignee == staying
    assert Agent.objects.get(pk=leaving.pk).status == Agent.Status.OFFLINE
    assert AuditEvent.objects.filter(case=case, action="cases.case.unassigned").exists()


def test_going_offline_keeps_cases_without_return(agent, refunds_team):
    case = make_case(refunds_team)
    take(agent)

    returned = agent_change_status(
        agent=agent, actor=Actor.for_agent(agent), status=Agent.Status.OFFLINE
    )

    assert returned == []
    assert SupportCase.objects.get(pk=case.pk).assignee == agent


def test_agent_cannot_change_another_agents_status(agent, make_agent):
    other = make_agent("Other")

    with pytest.raises(PermissionDenied):
        agent_change_status(
            agent=other, actor=Actor.for_agent(agent), status=Agent.Status.OFFLINE
        )

    assert Agent.objects.get(pk=other.pk).status == Agent.Status.AVAILABLE


def test_supervisor_can_send_an_agent_offline(agent, supervisor):
    agent_change_status(
        agent=agent, actor=Actor.for_agent(supervisor), status=Agent.Status.OFFLINE
    )

    assert Agent.objects.get(pk=agent.pk).status == Agent.Status.OFFLINE
    event = AuditEvent.objects.get(action="agents.agent.status_changed")
    assert event.changes == {"status": ["available", "offline"]}
