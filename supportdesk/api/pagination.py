"""Cursor pagination: stable pages without counting the whole table."""

from __future__ import annotations

import binascii
from base64 import b64decode

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
        # DRF decodes the cursor with b64decode's default, which discards
        # characters outside the base64 alphabet, so "%%%" read as no cursor.
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is not None:
            try:
                b64decode(encoded.encode("ascii"), validate=True)
            except (UnicodeEncodeError, binascii.Error):
                raise _invalid_cursor() from None
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise _invalid_cursor() from None


def _invalid_cursor() -> ValidationError:
    return ValidationError(
        {"cursor": ["The cursor is invalid. Use a next or previous link."]}
    )
