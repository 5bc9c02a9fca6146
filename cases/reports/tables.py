"""The report's tables, as rows of plain values for the page and for CSV.

The reports template renders these tables as HTML and the download view
renders the same tables as CSV. Cells keep their type (int, Decimal share,
timedelta, Money) until one of the two format functions turns them into text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from cases.models import SupportCase
from cases.reports import selectors
from cases.reports.durations import DurationStats
from cases.reports.forms import ReportScope
from cases.reports.selectors import share
from refunds.models import RefundDecision, RefundRequest
from supportdesk.money import Money

Cell = int | str | Decimal | timedelta | Money | list[Money] | None
Level = RefundDecision.Level


@dataclass(frozen=True)
class ReportTable:
    """A table whose first cell in each row is that row's header."""

    slug: str
    caption: str
    columns: list[str]
    rows: list[list[Cell]]


def case_tables(scope: ReportScope) -> list[ReportTable]:
    figures = selectors.case_figures(
        period=scope.period, team=scope.team, now=scope.now
    )
    counts = figures.counts
    summary: list[list[Cell]] = [
        ["Created", counts.created, None],
        ["Solved", counts.solved, None],
        ["Reopened", figures.reopened, None],
        ["Answered", counts.answered, share(counts.answered, counts.created)],
        [
            "Without a reply",
            counts.created - counts.answered,
            share(counts.created - counts.answered, counts.created),
        ],
        ["With a first-response target", counts.first_response_targets, None],
        [
            "First-response target breached",
            counts.first_response_breaches,
            share(counts.first_response_breaches, counts.first_response_targets),
        ],
        ["With a resolution target", counts.resolution_targets, None],
        [
            "Resolution target breached",
            counts.resolution_breaches,
            share(counts.resolution_breaches, counts.resolution_targets),
        ],
    ]
    times = [
        ["First response", *_duration_cells(figures.first_response)],
        ["Resolution", *_duration_cells(figures.resolution)],
    ]
    backlog: list[list[Cell]] = [
        [SupportCase.Status(status).label, count]
        for status, count in figures.backlog.items()
    ]
    backlog.append(["Total", sum(figures.backlog.values())])
    channels: list[list[Cell]] = [
        [
            SupportCase.Channel(channel).label,
            row.created,
            row.solved,
            row.first_response_breaches,
            row.resolution_breaches,
        ]
        for channel, row in figures.by_channel.items()
    ]
    return [
        ReportTable("cases", "Case counts", ["Figure", "Cases", "Share (%)"], summary),
        ReportTable(
            "times",
            "Response and resolution times (wall-clock)",
            ["Measure", "Cases", "Median", "90th percentile"],
            times,
        ),
        ReportTable("backlog", "Open backlog now", ["Status", "Cases"], backlog),
        ReportTable(
            "channels",
            "Cases by channel",
            [
                "Channel",
                "Created",
                "Solved",
                "First-response target breached",
                "Resolution target breached",
            ],
            channels,
        ),
    ]


def _duration_cells(stats: DurationStats) -> list[Cell]:
    return [stats.count, stats.percentiles.get(50), stats.percentiles.get(90)]


def refund_tables(scope: ReportScope) -> list[ReportTable]:
    figures = selectors.refund_figures(period=scope.period, team=scope.team)
    decided = figures.approved + figures.rejected
    by_level = figures.approved_by_level
    decisions: list[list[Cell]] = [
        ["Requested", figures.requested, None],
        [
            "Approved automatically",
            by_level[Level.SYSTEM],
            share(by_level[Level.SYSTEM], decided),
        ],
        [
            "Approved by an agent",
            by_level[Level.AGENT],
            share(by_level[Level.AGENT], decided),
        ],
        [
            "Approved by a supervisor",
            by_level[Level.SUPERVISOR],
            share(by_level[Level.SUPERVISOR], decided),
        ],
        ["Approved in total (approval rate)", figures.approved, figures.approval_rate],
        ["Rejected", figures.rejected, share(figures.rejected, decided)],
        ["Marked refunded", figures.refunded, None],
        ["Approvals cancelled", figures.cancelled, None],
    ]
    amounts: list[list[Cell]] = [
        [
            entry.currency,
            entry.requests,
            entry.money(entry.requested_minor),
            entry.money(entry.approved_minor),
            entry.money(entry.refunded_minor),
        ]
        for entry in figures.amounts
    ]
    reasons: list[list[Cell]] = [
        [RefundRequest.Reason(code).label, count, share(count, figures.requested)]
        for code, count in figures.reasons
    ]
    return [
        ReportTable(
            "refunds",
            "Refund requests and decisions",
            ["Figure", "Refunds", "Share of approvals and rejections (%)"],
            decisions,
        ),
        ReportTable(
            "refund-amounts",
            "Refund amounts by currency",
            ["Currency", "Requests", "Requested", "Approved", "Marked refunded"],
            amounts,
        ),
        ReportTable(
            "reasons",
            "Refund reasons",
            ["Reason", "Requests", "Share (%)"],
            reasons,
        ),
    ]


def agent_tables(scope: ReportScope) -> list[ReportTable]:
    rows = []
    for figures in selectors.agent_figures(period=scope.period, team=scope.team):
        surveys = figures.surveys or {}
        rows.append(
            [
                figures.name,
                figures.solved,
                figures.replies,
                figures.first_response.median,
                figures.refunds_decided,
                figures.approved,
                surveys.get("answered", 0),
                surveys.get("average"),
                surveys.get("csat"),
            ]
        )
    columns = [
        "Agent",
        "Cases solved",
        "Replies sent",
        "Median first response",
        "Refunds decided",
        "Amount approved",
        "Survey answers",
        "Average rating",
        "CSAT (%)",
    ]
    return [ReportTable("agents", "Figures per agent", columns, rows)]


# Sections of the page in order: a heading and the function building its tables.
SECTIONS: list[tuple[str, Callable[[ReportScope], list[ReportTable]]]] = [
    ("Cases", case_tables),
    ("Refunds", refund_tables),
    ("Agents", agent_tables),
]


def html_cell(value: Cell) -> str:
    """Return a cell as the page shows it: $1,234.50, 2 h 05 min, 37.5 %."""
    if value is None:
        return "–"
    if isinstance(value, Money):
        return value.format()
    if isinstance(value, list):
        return ", ".join(money.format() for money in value) or "–"
    if isinstance(value, timedelta):
        return _human_duration(value)
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def csv_cell(value: Cell) -> str:
    """Return a cell for a spreadsheet: 1234.50, 26:05:00, 37.5."""
    if value is None:
        return ""
    if isinstance(value, Money):
        return str(value.amount)
    if isinstance(value, list):
        return "; ".join(f"{money.amount} {money.currency}" for money in value)
    if isinstance(value, timedelta):
        seconds = round(value.total_seconds())
        hours, rest = divmod(seconds, 3600)
        return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
    return str(value)


def _human_duration(value: timedelta) -> str:
    minutes = round(value.total_seconds() / 60)
    if value < timedelta(minutes=1):
        return f"{int(value.total_seconds())} s"
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min"
