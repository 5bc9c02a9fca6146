"""Errors as RFC 9457 problem details (``application/problem+json``).

Every error of the API has the members ``type``, ``title``, ``status`` and
``detail``, plus ``code`` (the machine-readable name of the problem) and, for
invalid input, ``invalid_params``: one ``{"name", "reason"}`` entry per field,
with nested fields written as ``lines[0].quantity``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from supportdesk.errors import DomainError
from supportdesk.problems import (
    PROBLEM_CONTENT_TYPE,
    domain_problem_body,
    problem_body,
)
from supportdesk.views import body_too_large_detail


def problem_response(
    *,
    status: int,
    code: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """Build a problem details response."""
    body = problem_body(status=status, code=code, detail=detail, **extra)
    return Response(
        body, status=status, headers=headers, content_type=PROBLEM_CONTENT_TYPE
    )


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Turn domain errors and DRF errors into problem details.

    Returns None for anything else, so Django logs it and returns a 500.
    """
    if isinstance(exc, DomainError):
        set_rollback()
        return _domain_problem(exc)
    if isinstance(exc, RequestDataTooBig):
        # Raised when a view reads request.body above the limit. Handled here
        # because Django would return its HTML 400 (or debug) page.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return problem_response(
            status=413,
            code="request_too_large",
            detail=body_too_large_detail(limit),
            max_bytes=limit,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None
    set_rollback()
    headers = {}
    # DRF sets these on 401 and 429 errors.
    auth_header = getattr(exc, "auth_header", None)
    wait = getattr(exc, "wait", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    if wait:
        headers["Retry-After"] = str(int(wait))
    if isinstance(exc, exceptions.ValidationError):
        params = invalid_params(exc.detail)
        names = ", ".join(dict.fromkeys(p["name"] for p in params))
        return problem_response(
            status=exc.status_code,
            code="invalid",
            detail=f"The request has invalid values: {names}. See invalid_params.",
            headers=headers,
            invalid_params=params,
        )
    return problem_response(
        status=exc.status_code,
        code=_code_of(exc),
        detail=_detail_text(exc.detail),
        headers=headers,
    )


def _domain_problem(exc: DomainError) -> Response:
    return Response(
        domain_problem_body(exc),
        status=exc.status_code,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def _code_of(exc: exceptions.APIException) -> str:
    if isinstance(exc.detail, dict) and "code" in exc.detail:
        return str(exc.detail["code"])  # simplejwt's errors carry their code
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else exc.default_code


def _detail_text(detail: Any) -> str:
    if isinstance(detail, dict):
        detail = detail.get("detail", next(iter(detail.values()), ""))
    if isinstance(detail, list):
        detail = " ".join(str(item) for item in detail)
    return str(detail)


def invalid_params(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """Flatten DRF's nested validation errors into name and reason pairs."""
    if isinstance(detail, dict):
        params = []
        for field, value in detail.items():
            if isinstance(field, int):  # a ListField's errors by position
                path = f"{prefix}[{field}]"
            else:
                name = field if field != "non_field_errors" else ""
                path = f"{prefix}.{name}" if prefix and name else prefix or name
            params.extend(invalid_params(value, path))
        return params
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return [{"name": prefix or "body", "reason": str(item)} for item in detail]
        params = []
        for index, item in enumerate(detail):
            params.extend(invalid_params(item, f"{prefix}[{index}]"))
        return params
    return [{"name": prefix or "body", "reason": str(detail)}]
