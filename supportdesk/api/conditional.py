"""ETag and If-None-Match for single resources."""

from __future__ import annotations

import hashlib
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags
from rest_framework.request import Request
from rest_framework.response import Response


def etag_for(data) -> str:
    """Return a strong ETag: a hash of the representation as JSON."""
    body = json.dumps(
        data, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder
    )
    return '"' + hashlib.sha256(body.encode("utf-8")).hexdigest()[:32] + '"'


def conditional_response(request: Request, data, *, status: int = 200) -> Response:
    """Return ``data`` with its ETag, or 304 when If-None-Match matches it.

    The representation depends on the caller (integrations see no internal
    notes), so responses vary on Authorization and are private.
    """
    etag = etag_for(data)
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if_none_match = request.headers.get("If-None-Match")
    if request.method in ("GET", "HEAD") and if_none_match:
        tags = parse_etags(if_none_match)
        weak_equal = {tag.removeprefix("W/") for tag in tags}
        if "*" in tags or etag in weak_equal:
            response = Response(status=304, headers=headers)
            patch_vary_headers(response, ["Authorization"])
            return response
    response = Response(data, status=status, headers=headers)
    patch_vary_headers(response, ["Authorization"])
    return response
