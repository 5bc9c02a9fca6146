"""A paginator that stops counting, for lists that can hold millions of rows."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property


class CappedPaginator(Paginator):
    """Count at most ``count_cap + 1`` rows, so no page runs a full COUNT(*).

    Past the cap the count reads ``count_cap + 1``, ``is_capped`` is true,
    and pages beyond the cap are not reachable. Pages show "more than
    count_cap" instead of the number.
    """

    count_cap = 10_000

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if isinstance(rows, QuerySet):
            return rows.order_by().values("pk")[: self.count_cap + 1].count()
        return len(rows[: self.count_cap + 1])

    @property
    def is_capped(self) -> bool:
        return self.count > self.count_cap
