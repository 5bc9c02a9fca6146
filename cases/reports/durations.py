"""Median and percentiles of durations, computed in the database.

The database numbers the rows of each group in order of their duration with
window functions (ROW_NUMBER and COUNT OVER, on SQLite 3.25+ and PostgreSQL
alike) and returns only the two rows around each requested percentile. So
one query serves any number of groups, and the memory used in Python does
not grow with the number of rows.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import (
    Count,
    DurationField,
    Expression,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Value,
    Window,
)
from django.db.models.functions import RowNumber


@dataclass(frozen=True)
class DurationStats:
    """How many durations a group has, and its percentiles by rank (50, 90)."""

    count: int
    percentiles: dict[int, timedelta] = field(default_factory=dict)

    @property
    def median(self) -> timedelta | None:
        return self.percentiles.get(50)


def duration_percentiles(
    queryset: QuerySet,
    duration: Expression,
    *,
    ranks: Sequence[int] = (50, 90),
    group_by: str | None = None,
) -> dict[Hashable, DurationStats]:
    """Return the count and percentiles of ``duration`` per value of ``group_by``.

    Filter out the rows of ``queryset`` whose ``duration`` is NULL first,
    since the database sorts NULL among the durations. Percentiles
    interpolate linearly between the two nearest rows, as PostgreSQL's
    percentile_cont does, so the median of an even count is the mean of the
    two middle durations. Without ``group_by`` the
    result has one entry, under the key None, unless ``queryset`` is empty.
    """
    partition = [F(group_by)] if group_by else None
    numbered = queryset.annotate(
        report_duration=ExpressionWrapper(duration, output_field=DurationField()),
    ).annotate(
        report_index=Window(
            RowNumber(),
            partition_by=partition,
            order_by=[F("report_duration").asc(), F("pk").asc()],
        )
        - Value(1),
        report_count=Window(Count("pk"), partition_by=partition),
    )
    around_ranks = Q()
    for rank in ranks:
        # The 0-based index of the lower of the two rows around the rank.
        lower = (F("report_count") - Value(1)) * Value(rank) / Value(100)
        around_ranks |= Q(report_index__gte=lower, report_index__lte=lower + Value(1))
    columns = ["report_index", "report_count", "report_duration"]
    rows = (
        numbered.filter(around_ranks)
        .order_by()
        .values_list(*columns, *filter(None, [group_by]))
    )

    found: dict[Hashable, dict[int, timedelta]] = {}
    counts: dict[Hashable, int] = {}
    for index, count, value, *group in rows:
        key = group[0] if group else None
        found.setdefault(key, {})[index] = value
        counts[key] = count
    return {
        key: DurationStats(
            count=counts[key],
            percentiles={
                rank: _interpolate(found[key], counts[key], rank) for rank in ranks
            },
        )
        for key in found
    }


def _interpolate(values: dict[int, timedelta], count: int, rank: int) -> timedelta:
    position = (count - 1) * rank
    lower, remainder = divmod(position, 100)
    low = values[lower]
    if not remainder:
        return low
    return low + (values[lower + 1] - low) * remainder / 100
