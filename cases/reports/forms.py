"""The reports page's filters: a period and a team."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from agents.models import Team

# Periods counted back from now, in days.
RECENT_PERIODS = {"7": 7, "30": 30, "90": 90}
DATE_RANGE = "range"


@dataclass(frozen=True)
class ReportPeriod:
    """A span of time from ``start`` (included) to ``end`` (excluded)."""

    start: datetime
    end: datetime
    label: str

    @property
    def slug(self) -> str:
        """Return the first and last day, for file names: 2025-03-01-to-2025-03-31."""
        first = timezone.localdate(self.start)
        last = timezone.localdate(self.end - timedelta(microseconds=1))
        return f"{first:%Y-%m-%d}-to-{last:%Y-%m-%d}"


@dataclass(frozen=True)
class ReportScope:
    """The extent of a report: a period and one team, or every team (None)."""

    period: ReportPeriod
    team: Team | None
    # The moment "now" for figures such as the open backlog and SLA breaches.
    now: datetime


class ReportFilterForm(forms.Form):
    period = forms.ChoiceField(
        label="Period",
        choices=[
            ("7", "Last 7 days"),
            ("30", "Last 30 days"),
            ("90", "Last 90 days"),
            (DATE_RANGE, "Dates below"),
        ],
        required=False,
        help_text="Dates, when given, take precedence.",
    )
    start = forms.DateField(
        label="From",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="First day, included.",
    )
    end = forms.DateField(
        label="To",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Last day, included.",
    )
    team = forms.ModelChoiceField(
        label="Team",
        queryset=Team.objects.order_by("name"),
        required=False,
        empty_label="All teams",
        to_field_name="slug",
        error_messages={
            "invalid_choice": "There is no team with this identifier. Choose a "
            "team from the list."
        },
    )

    def __init__(self, data=None, **kwargs) -> None:
        # Dates, when given, take precedence over the period, and the last
        # 30 days are the default, so the period field shows what the report
        # uses.
        has_dates = data is not None and (data.get("start") or data.get("end"))
        if has_dates or (data is not None and not data.get("period")):
            data = data.copy()
            data["period"] = DATE_RANGE if has_dates else "30"
        super().__init__(data, **kwargs)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        start, end = cleaned.get("start"), cleaned.get("end")
        if self.errors:
            return cleaned
        if cleaned.get("period") == DATE_RANGE:
            if start is None:
                self.add_error("start", "Enter the first day of the date range.")
            if end is None:
                self.add_error("end", "Enter the last day of the date range.")
            if end == date.max:
                self.add_error("end", f"Enter a day before {date.max:%Y-%m-%d}.")
            elif start and end and start > end:
                self.add_error(
                    "end",
                    f"The last day ({end:%Y-%m-%d}) is before the first day "
                    f"({start:%Y-%m-%d}). Enter a later date.",
                )
        return cleaned

    def report_scope(self, now: datetime | None = None) -> ReportScope:
        """Return the chosen period and team. Call it only after is_valid()."""
        now = now or timezone.now()
        return ReportScope(
            period=self._period(now), team=self.cleaned_data["team"], now=now
        )

    def _period(self, now: datetime) -> ReportPeriod:
        data = self.cleaned_data
        if data["period"] == DATE_RANGE:
            start, end = data["start"], data["end"]
            return ReportPeriod(
                start=_local_midnight(start),
                end=_local_midnight(end + timedelta(days=1)),
                label=f"{start:%d %b %Y} to {end:%d %b %Y}",
            )
        days = RECENT_PERIODS[data["period"]]
        return ReportPeriod(
            start=now - timedelta(days=days), end=now, label=f"Last {days} days"
        )


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(0)))
