"""A JSON parser that reads numbers with a fraction as Decimal, never float."""

from __future__ import annotations

import codecs
import json
from decimal import Decimal

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser

from supportdesk.views import body_too_large_detail


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a valid JSON number")


class DecimalJSONParser(JSONParser):
    """Parse JSON bodies with ``parse_float=Decimal``.

    ``"amount": 6.95`` becomes ``Decimal("6.95")`` exactly, as the text was
    written. NaN and Infinity are rejected, and so are a body larger than
    DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB by default) and one nested deeper
    than Python's recursion limit (about 1000 levels by default).
    """

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if stream is None:
            raw = b""
        elif limit is None:
            raw = stream.read()
        else:
            raw = stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise RequestTooLarge(body_too_large_detail(limit))
        try:
            text = codecs.decode(raw, encoding)
            return json.loads(
                text, parse_float=Decimal, parse_constant=_reject_constant
            )
        except (ValueError, LookupError) as exc:
            raise ParseError(f"The body is not valid JSON: {exc}") from None
        except RecursionError:
            # The json module recurses once per nested array or object, so
            # a body such as 5000 '[' exceeds Python's recursion limit.
            raise ParseError(
                "The body is nested too deeply to parse. Send JSON with fewer "
                "levels of nested arrays and objects."
            ) from None
