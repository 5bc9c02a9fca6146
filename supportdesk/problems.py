"""RFC 9457 problem details bodies, shared by the API and stored responses.

Every problem has ``type``, ``title``, ``status``, ``detail`` and ``code``
(the machine-readable name of the problem). A domain error that names a
field adds ``invalid_params``; a refund that is not eligible adds the
customer reasons and the eligibility trace.
"""

from __future__ import annotations

from typing import Any

from supportdesk.errors import DomainError

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:supportdesk:problem:"

TITLES = {
    400: "Invalid request",
    401: "Authentication required",
    403: "Permission denied",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    429: "Too many requests",
    503: "Service unavailable",
}


def problem_body(
    *, status: int, code: str, detail: str, **extra: Any
) -> dict[str, Any]:
    """Return the members of one problem details document."""
    return {
        "type": TYPE_PREFIX + code,
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }


def domain_problem_body(error: DomainError) -> dict[str, Any]:
    """Return the problem details of a domain error raised by a service."""
    extra: dict[str, Any] = {}
    if error.field:
        extra["invalid_params"] = [{"name": error.field, "reason": error.message}]
    decision = getattr(error, "decision", None)
    if decision is not None:
        extra["reasons"] = decision.customer_reasons
        extra["eligibility_trace"] = decision.trace()
    return problem_body(
        status=error.status_code, code=error.code, detail=error.message, **extra
    )
