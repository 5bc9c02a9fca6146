"""Cursor pagination: stable pages without counting the whole table."""

from __future__ import annotations

from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError


class CursorPagination(pagination.CursorPagination):
    """Pages of 25 by default, up to 100 with ``page_size``.

    Each view sets ``ordering``. An invalid ``cursor`` is a 400 naming the
    parameter, rather than DRF's 404.
    """

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError(
                {"cursor": ["The cursor is invalid. Use a next or previous link."]}
            ) from None
