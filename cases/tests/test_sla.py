"""SLA due times in business hours, the paused clock and escalation."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from agents.models import BusinessHours, Holiday, Team
from cases import services
from cases.audit import Actor
from cases.escalation import sla_escalate
from cases.models import AuditEvent, SlaPolicy, SupportCase
from cases.sla import (
    BusinessCalendar,
    add_business_minutes,
    business_minutes_between,
    calendar_for_team,
)

PARIS = ZoneInfo("Europe/Paris")
NINE_TO_FIVE = {day: [(time(9), time(17))] for day in range(5)}


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


def office() -> BusinessCalendar:
    return BusinessCalendar(time_zone=PARIS, periods=NINE_TO_FIVE)


def test_add_minutes_within_one_day():
    start = paris(2026, 3, 9, 10, 0)  # a Monday

    due = add_business_minutes(start, 90, office())

    assert due == paris(2026, 3, 9, 11, 30)


def test_add_minutes_carries_over_closing_time():
    due = add_business_minutes(paris(2026, 3, 9, 16, 30), 60, office())

    assert due == paris(2026, 3, 10, 9, 30)


def test_add_minutes_from_outside_hours_starts_at_opening():
    due = add_business_minutes(paris(2026, 3, 9, 6, 0), 30, office())

    assert due == paris(2026, 3, 9, 9, 30)


def test_add_minutes_skips_the_weekend():
    due = add_business_minutes(paris(2026, 3, 13, 16, 0), 120, office())  # Friday

    assert due == paris(2026, 3, 16, 10, 0)


def test_add_minutes_skips_holidays():
    calendar = BusinessCalendar(
        time_zone=PARIS, periods=NINE_TO_FIVE, holidays=frozenset({date(2026, 3, 10)})
    )

    due = add_business_minutes(paris(2026, 3, 9, 16, 0), 120, calendar)

    assert due == paris(2026, 3, 11, 10, 0)


def test_add_minutes_across_daylight_saving_end_keeps_local_hours():
    # Summer time ends on Sunday 25 October 2026 in Paris.
    due = add_business_minutes(paris(2026, 10, 23, 16, 0), 120, office())

    assert due == paris(2026, 10, 26, 10, 0)
    assert due.astimezone(UTC) == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)


def test_around_the_clock_counts_real_hours_across_daylight_saving():
    calendar = BusinessCalendar(time_zone=PARIS)
    start = paris(2026, 10, 24, 12, 0)  # 10:00 UTC, summer time

    due = add_business_minutes(start, 24 * 60, calendar)

    assert due.astimezone(UTC) == datetime(2026, 10, 25, 10, 0, tzinfo=UTC)
    assert due.astimezone(PARIS).hour == 11


def test_split_day_skips_the_lunch_break():
    calendar = BusinessCalendar(
        time_zone=PARIS, periods={0: [(time(9), time(12)), (time(13), time(17))]}
    )

    due = add_business_minutes(paris(2026, 3, 9, 11, 30), 60, calendar)

    assert due == paris(2026, 3, 9, 13, 30)


def test_period_closing_at_midnight_runs_to_end_of_day():
    calendar = BusinessCalendar(time_zone=PARIS, periods={0: [(time(20), time(0))]})

    due = add_business_minutes(paris(2026, 3, 9, 23, 0), 90, calendar)

    assert due == paris(2026, 3, 16, 20, 30)


def test_minutes_between_counts_only_business_time():
    minutes = business_minutes_between(
        paris(2026, 3, 13, 16, 0), paris(2026, 3, 16, 10, 0), office()
    )

    assert minutes == 120


def test_minutes_between_is_zero_backwards():
    assert (
        business_minutes_between(paris(2026, 3, 9, 12), paris(2026, 3, 9, 10), office())
        == 0
    )


def test_calendar_without_working_time_raises():
    calendar = BusinessCalendar(time_zone=PARIS, periods={0: []})

    with pytest.raises(ValueError, match="no working time"):
        add_business_minutes(paris(2026, 3, 9, 10), 1, calendar)


@pytest.fixture
def office_team(db) -> Team:
    team = Team.objects.create(name="Office", slug="office", time_zone="Europe/Paris")
    for weekday in range(5):
        BusinessHours.objects.create(
            team=team, weekday=weekday, opens_at=time(9), closes_at=time(17)
        )
    return team


@pytest.fixture
def normal_policy(db) -> SlaPolicy:
    return SlaPolicy.objects.create(
        priority=SupportCase.Priority.NORMAL,
        first_response_minutes=60,
        resolution_minutes=480,
    )


def open_case(team, **kwargs) -> SupportCase:
    return services.case_create(
        actor=Actor.customer("Ana"),
        subject="Parcel missing",
        channel=SupportCase.Channel.EMAIL,
        body="Where is it?",
        team=team,
        **kwargs,
    )


def test_calendar_for_team_reads_hours_and_holidays(office_team):
    Holiday.objects.create(team=office_team, date=date(2026, 12, 25), name="Christmas")

    calendar = calendar_for_team(office_team)

    assert calendar.time_zone == PARIS
    assert calendar.periods[0] == [(time(9), time(17))]
    assert 5 not in calendar.periods
    assert calendar.holidays == frozenset({date(2026, 12, 25)})


@time_machine.travel(paris(2026, 3, 9, 16, 30), tick=False)
def test_new_case_gets_due_times_in_business_hours(office_team, normal_policy):
    case = open_case(office_team)

    assert case.first_response_due_at == paris(2026, 3, 10, 9, 30)
    assert case.resolution_due_at == paris(2026, 3, 10, 16, 30)
    assert case.sla_due_at == case.first_response_due_at


def test_case_without_policy_has_no_due_time(office_team):
    case = open_case(office_team)

    assert case.first_response_due_at is None
    assert case.sla_due_at is None


def test_first_reply_moves_due_to_resolution(office_team, normal_policy, agent):
    with time_machine.travel(paris(2026, 3, 9, 10, 0), tick=False):
        case = open_case(office_team)
    with time_machine.travel(paris(2026, 3, 9, 10, 20), tick=False):
        services.case_reply(case=case, actor=Actor.for_agent(agent), body="On it.")

    case.refresh_from_db()
    assert case.sla_due_at == case.resolution_due_at == paris(2026, 3, 10, 10, 0)


def test_pending_pauses_the_clock_and_moves_due_times(
    office_team, normal_policy, agent
):
    actor = Actor.for_agent(agent)
    with time_machine.travel(paris(2026, 3, 9, 16, 30), tick=False):
        case = open_case(office_team)
    with time_machine.travel(paris(2026, 3, 9, 16, 45), tick=False):
        services.case_change_status(case=case, actor=actor, status="pending")
    case.refresh_from_db()
    assert case.sla_due_at is None
    assert case.sla_paused_at == paris(2026, 3, 9, 16, 45)

    with time_machine.travel(paris(2026, 3, 11, 10, 0), tick=False):
        services.case_change_status(case=case, actor=actor, status="open")

    case.refresh_from_db()
    # 15 minutes on Monday + 480 on Tuesday + 60 on Wednesday were paused,
    # so the 45 minutes that were left run from Wednesday 10:00.
    assert case.sla_paused_minutes == 555
    assert case.sla_paused_at is None
    assert case.first_response_due_at == paris(2026, 3, 11, 10, 45)
    assert case.sla_due_at == case.first_response_due_at


def test_customer_reply_resumes_a_pending_case(office_team, normal_policy, agent):
    with time_machine.travel(paris(2026, 3, 9, 9, 0), tick=False):
        case = open_case(office_team)
        services.case_change_status(
            case=case, actor=Actor.for_agent(agent), status="pending"
        )
    with time_machine.travel(paris(2026, 3, 9, 11, 0), tick=False):
        services.case_add_customer_message(
            case=case, actor=Actor.customer("Ana"), body="Here is the photo."
        )

    case.refresh_from_db()
    assert case.status == "open"
    assert case.sla_paused_minutes == 120
    assert case.sla_due_at == paris(2026, 3, 9, 12, 0)


def test_solved_case_has_no_due_time(office_team, normal_policy, agent):
    case = open_case(office_team)

    services.case_change_status(
        case=case, actor=Actor.for_agent(agent), status="solved"
    )

    case.refresh_from_db()
    assert case.sla_due_at is None
    assert case.sla_paused_at is not None


def test_priority_change_recomputes_due_times(office_team, normal_policy, agent):
    SlaPolicy.objects.create(
        priority=SupportCase.Priority.URGENT,
        first_response_minutes=15,
        resolution_minutes=120,
    )
    with time_machine.travel(paris(2026, 3, 9, 10, 0), tick=False):
        case = open_case(office_team)
        services.case_change_priority(
            case=case,
            actor=Actor.for_agent(agent),
            priority=SupportCase.Priority.URGENT,
        )

    case.refresh_from_db()
    assert case.first_response_due_at == paris(2026, 3, 9, 10, 15)
    assert case.resolution_due_at == paris(2026, 3, 9, 12, 0)


def test_escalation_raises_priority_and_emails_supervisors(
    office_team, normal_policy, supervisor, django_capture_on_commit_callbacks
):
    supervisor.user.email = "sam@desk.example"
    supervisor.user.save()
    with time_machine.travel(paris(2026, 3, 9, 10, 0), tick=False):
        case = open_case(office_team)

    with django_capture_on_commit_callbacks(execute=True):
        breaches = sla_escalate(now=paris(2026, 3, 9, 11, 1))

    case.refresh_from_db()
    assert [b.reference for b in breaches] == [case.reference]
    assert breaches[0].target == "first response"
    assert case.priority == SupportCase.Priority.HIGH
    assert case.first_response_breached_at == paris(2026, 3, 9, 11, 1)
    assert (
        AuditEvent.objects.filter(case=case, action="cases.sla.breached").count() == 1
    )
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["sam@desk.example"]
    assert case.reference in mail.outbox[0].body


def test_escalation_runs_once_per_target(office_team, normal_policy, agent):
    with time_machine.travel(paris(2026, 3, 9, 10, 0), tick=False):
        case = open_case(office_team)
    sla_escalate(now=paris(2026, 3, 9, 11, 1))

    again = sla_escalate(now=paris(2026, 3, 9, 11, 30))

    case.refresh_from_db()
    assert again == []
    assert case.priority == SupportCase.Priority.HIGH


def test_escalation_ignores_cases_before_due_and_paused(
    office_team, normal_policy, agent
):
    with time_machine.travel(paris(2026, 3, 9, 10, 0), tick=False):
        waiting = open_case(office_team)
        paused = open_case(office_team)
        services.case_change_status(
            case=paused, actor=Actor.for_agent(agent), status="pending"
        )

    breaches = sla_escalate(now=paris(2026, 3, 9, 10, 59))
    later = sla_escalate(now=paris(2026, 3, 9, 12, 0))

    assert breaches == []
    assert [b.reference for b in later] == [waiting.reference]


def test_resolution_breach_escalates_after_first_response(
    office_team, normal_policy, agent
):
    with time_machine.travel(paris(2026, 3, 9, 9, 0), tick=False):
        case = open_case(office_team)
        services.case_reply(case=case, actor=Actor.for_agent(agent), body="Looking.")

    breaches = sla_escalate(now=paris(2026, 3, 9, 17, 1))

    case.refresh_from_db()
    assert [b.target for b in breaches] == ["resolution"]
    assert case.resolution_breached_at is not None
    assert case.first_response_breached_at is None


def test_escalate_command_reports_the_count(office_team, normal_policy, capsys):
    with time_machine.travel(paris(2020, 3, 9, 9, 0), tick=False):
        open_case(office_team)

    call_command("escalate_sla")

    assert "Escalated 1 SLA breaches." in capsys.readouterr().out
