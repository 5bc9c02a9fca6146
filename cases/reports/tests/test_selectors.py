"""Report figures on the known desk of conftest.py, worked out by hand."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cases.reports.forms import ReportFilterForm
from cases.reports.selectors import agent_figures, case_figures, refund_figures
from cases.reports.tests.conftest import MARCH, NOW

pytestmark = pytest.mark.django_db


def march(team=None):
    data = {**MARCH, "team": team.slug if team else ""}
    form = ReportFilterForm(data)
    assert form.is_valid(), form.errors
    return form.report_scope(NOW)


def test_case_counts_all_teams(desk):
    figures = case_figures(**vars(march()))

    counts = figures.counts
    assert counts.created == 4  # A, B, C, D
    assert counts.solved == 3  # A, B and E's second solve
    assert counts.answered == 3  # D has no reply
    assert counts.first_response_targets == 4
    assert counts.first_response_breaches == 2  # C late, D unanswered
    assert counts.resolution_targets == 4
    assert counts.resolution_breaches == 3  # B late, C and D overdue
    assert figures.reopened == 1  # E
    assert figures.backlog == {"open": 3, "pending": 0, "on_hold": 0}  # C, D, F


def test_case_counts_by_channel(desk):
    by_channel = case_figures(**vars(march())).by_channel

    assert by_channel["email"].created == 2
    assert by_channel["email"].solved == 2
    assert by_channel["api"].created == 1
    assert by_channel["api"].resolution_breaches == 1
    assert by_channel["contact_form"].first_response_breaches == 1
    assert by_channel["refund_form"].created == 0


def test_case_times_median_and_90th(desk):
    figures = case_figures(**vars(march()))

    # First replies of A, B, C: 10, 30 and 120 minutes.
    assert figures.first_response.count == 3
    assert figures.first_response.median == timedelta(minutes=30)
    # Rank 0.9 × 2 = 1.8: 30 + 0.8 × (120 - 30) minutes.
    assert figures.first_response.percentiles[90] == timedelta(minutes=102)
    # Solved A: 2 h, B: 10 h, E: 16 days 1 hour.
    assert figures.resolution.count == 3
    assert figures.resolution.median == timedelta(hours=10)
    assert figures.resolution.percentiles[90] == timedelta(hours=10 + 0.8 * 375)


def test_case_figures_for_one_team(desk, refunds_team):
    figures = case_figures(**vars(march(refunds_team)))

    assert figures.counts.created == 3  # D belongs to General
    assert figures.counts.first_response_breaches == 1
    assert figures.backlog["open"] == 2  # C and F
    assert figures.first_response.median == timedelta(minutes=30)


def test_case_figures_of_empty_period(desk):
    form = ReportFilterForm({"start": "2024-01-01", "end": "2024-01-31"})
    assert form.is_valid()

    figures = case_figures(**vars(form.report_scope(NOW)))

    assert figures.counts.created == 0
    assert figures.first_response.count == 0
    assert figures.first_response.median is None


def test_refund_counts(desk):
    figures = refund_figures(period=march().period, team=None)

    assert figures.requested == 5
    assert figures.approved_by_level == {"system": 1, "agent": 1, "supervisor": 1}
    assert figures.rejected == 1
    assert figures.refunded == 1
    assert figures.approval_rate == 75
    assert figures.reasons == [("damaged", 3), ("does_not_fit", 1), ("wrong_item", 1)]


def test_refund_amounts_per_currency(desk):
    amounts = refund_figures(period=march().period, team=None).amounts

    jpy, usd = amounts
    assert (jpy.currency, jpy.requests) == ("JPY", 1)
    assert str(jpy.money(jpy.requested_minor)) == "¥5,000"
    assert str(jpy.money(jpy.approved_minor)) == "¥5,000"
    assert jpy.refunded_minor == 0
    assert (usd.currency, usd.requests) == ("USD", 4)
    assert usd.requested_minor == 15500
    assert usd.approved_minor == 8500  # 25.00 automatically, 60.00 by Alex
    assert usd.refunded_minor == 2500


def test_refund_figures_for_one_team(desk, general_team):
    figures = refund_figures(period=march().period, team=general_team)

    assert figures.requested == 1  # R5, undecided
    assert figures.approved == 0
    assert figures.approval_rate is None


def test_agent_rows(desk):
    rows = {row.name: row for row in agent_figures(period=march().period, team=None)}

    alex, bea, sam = rows["Alex Agent"], rows["Bea Agent"], rows["Sam Supervisor"]
    assert (alex.solved, alex.replies) == (3, 3)
    # A and B: 10 and 30 minutes, an even count.
    assert alex.first_response.median == timedelta(minutes=20)
    assert alex.refunds_decided == 2
    assert [str(money) for money in alex.approved] == ["$60.00"]
    assert alex.surveys is not None
    assert alex.surveys["sent"] == 4
    assert alex.surveys["answered"] == 3
    assert alex.surveys["average"] == pytest.approx(3.67)
    assert alex.surveys["csat"] == 67
    assert (bea.solved, bea.replies, bea.refunds_decided) == (0, 1, 0)
    assert bea.first_response.median == timedelta(hours=2)
    assert bea.surveys is None
    assert sam.refunds_decided == 1
    assert [str(money) for money in sam.approved] == ["¥5,000"]


def test_agent_rows_for_one_team(desk, general_team):
    rows = agent_figures(period=march().period, team=general_team)

    assert [row.name for row in rows] == ["Bea Agent"]
    assert rows[0].replies == 0  # her reply was on a Refunds case
    assert rows[0].first_response.count == 0


def test_period_slug_names_first_and_last_day(desk):
    assert march().period.slug == "2025-03-01-to-2025-03-31"
    assert march().period.end.date() == date(2025, 4, 1)
