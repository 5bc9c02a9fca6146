"""Service level targets counted in a team's business hours.

A case gets a first-response and a resolution due time from the SLA policy
of its priority. Both count business minutes of the team's calendar: its
weekly hours in its time zone, less its holidays. The clock runs while the
case is open or on hold, and pauses while it is pending (waiting on the
customer) or solved. Paused business minutes push both due times back.

All arithmetic is done in UTC, because subtracting two aware datetimes that
share a zoneinfo object compares wall-clock times and is off by an hour
across a daylight saving change.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from agents.models import Team
from cases.models import SlaPolicy, SupportCase

# A calendar must have a business minute within this many days of any date.
MAX_SEARCH_DAYS = 5 * 366
MIDNIGHT = time(0)
RUNNING_STATUSES = (SupportCase.Status.OPEN, SupportCase.Status.ON_HOLD)
# Fields that sla_update() may change; services save them with the case.
SLA_FIELDS = [
    "first_response_due_at",
    "resolution_due_at",
    "sla_due_at",
    "sla_paused_at",
    "sla_paused_minutes",
]


@dataclass(frozen=True)
class BusinessCalendar:
    """Weekly business hours in one time zone, less holidays.

    ``periods`` maps a weekday (0 is Monday) to its (opens, closes) local
    times; a closing time of 00:00 is midnight at the end of the day. With
    no periods at all, every hour of a non-holiday day counts.
    """

    time_zone: ZoneInfo
    periods: dict[int, list[tuple[time, time]]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()

    def intervals_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Yield the business intervals in UTC, in order, from ``moment``'s day.

        Raises ValueError when no business minute follows within
        MAX_SEARCH_DAYS, such as for a calendar whose every day is a holiday.
        """
        day = moment.astimezone(self.time_zone).date()
        empty_days = 0
        while empty_days < MAX_SEARCH_DAYS:
            found = False
            for opens, closes in self._periods_of(day):
                found = True
                yield self._utc(day, opens), self._utc(day, closes, end=True)
            empty_days = 0 if found else empty_days + 1
            day += timedelta(days=1)
        raise ValueError(
            f"The business calendar has no working time in the {MAX_SEARCH_DAYS} "
            f"days after {day:%Y-%m-%d}. Add business hours or remove holidays."
        )

    def _periods_of(self, day: date) -> list[tuple[time, time]]:
        if day in self.holidays:
            return []
        if not self.periods:
            return [(MIDNIGHT, MIDNIGHT)]
        return self.periods.get(day.weekday(), [])

    def _utc(self, day: date, at: time, *, end: bool = False) -> datetime:
        if end and at == MIDNIGHT:
            day += timedelta(days=1)
        return datetime.combine(day, at, tzinfo=self.time_zone).astimezone(UTC)


def add_business_minutes(
    start: datetime, minutes: int, calendar: BusinessCalendar
) -> datetime:
    """Return the moment ``minutes`` business minutes after ``start``."""
    remaining = timedelta(minutes=minutes)
    start = start.astimezone(UTC)
    if not remaining:
        return start
    for opens, closes in calendar.intervals_from(start):
        if closes <= start:
            continue
        begin = max(opens, start)
        span = closes - begin
        if remaining <= span:
            return begin + remaining
        remaining -= span
    raise AssertionError("intervals_from() ends only by raising")  # pragma: no cover


def business_minutes_between(
    start: datetime, end: datetime, calendar: BusinessCalendar
) -> int:
    """Return the whole business minutes from ``start`` to ``end`` (0 if before)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    total = timedelta()
    if end <= start:
        return 0
    for opens, closes in calendar.intervals_from(start):
        if opens >= end:
            break
        begin, finish = max(opens, start), min(closes, end)
        if finish > begin:
            total += finish - begin
    return int(total.total_seconds() // 60)


def calendar_for_team(team: Team | None) -> BusinessCalendar:
    """Load ``team``'s calendar; no team works around the clock in the shop zone."""
    zone = ZoneInfo((team.time_zone if team else "") or settings.TIME_ZONE)
    if team is None:
        return BusinessCalendar(time_zone=zone)
    periods: dict[int, list[tuple[time, time]]] = {}
    for hours in team.business_hours.order_by("weekday", "opens_at"):
        periods.setdefault(hours.weekday, []).append((hours.opens_at, hours.closes_at))
    holidays = frozenset(team.holidays.values_list("date", flat=True))
    return BusinessCalendar(time_zone=zone, periods=periods, holidays=holidays)


def sla_update(
    case: SupportCase,
    *,
    now: datetime,
    recompute: bool = False,
    calendar: BusinessCalendar | None = None,
) -> list[str]:
    """Bring the case's SLA fields in line with its status; return SLA_FIELDS.

    Call it after a change of status or first response, and with
    ``recompute`` after a change of priority or on creation. Leaving
    pending or solved adds the paused business minutes and moves the due
    times back by them.
    """
    running = case.status in RUNNING_STATUSES
    if running and case.sla_paused_at is not None:
        calendar = calendar or calendar_for_team(case.team)
        case.sla_paused_minutes += business_minutes_between(
            case.sla_paused_at, now, calendar
        )
        case.sla_paused_at = None
        recompute = True
    elif not running and case.sla_paused_at is None:
        case.sla_paused_at = now
    if recompute:
        _compute_due_times(case, calendar or calendar_for_team(case.team))
    case.sla_due_at = next_due_at(case) if running else None
    return SLA_FIELDS


def _compute_due_times(case: SupportCase, calendar: BusinessCalendar) -> None:
    policy = SlaPolicy.objects.filter(priority=case.priority).first()
    if policy is None:
        case.first_response_due_at = case.resolution_due_at = None
        return
    paused = case.sla_paused_minutes
    case.first_response_due_at = add_business_minutes(
        case.created_at, policy.first_response_minutes + paused, calendar
    )
    case.resolution_due_at = add_business_minutes(
        case.created_at, policy.resolution_minutes + paused, calendar
    )


def next_due_at(case: SupportCase) -> datetime | None:
    """Return the due time of the next target the case has not met."""
    if case.first_response_at is None and case.first_response_due_at is not None:
        return case.first_response_due_at
    return case.resolution_due_at
