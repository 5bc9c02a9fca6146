"""Project-wide error views."""

from __future__ import annotations

import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.views import defaults

from supportdesk.problems import PROBLEM_CONTENT_TYPE, problem_body

API_PREFIX = "/api/"

CSRF_FAILED = (
    "This page is out of date or your session ended, so the action was not "
    "taken. Reload the page and try again."
)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Return 403 for a failed CSRF check, with a notice the person can act on.

    htmx gets no body to swap, because the target would show a stray page;
    the ``showNotice`` event makes static/js/app.js show the message.
    """
    if getattr(request, "htmx", False):
        response = HttpResponse(status=403)
        response["HX-Reswap"] = "none"
        response["HX-Trigger"] = json.dumps({"showNotice": CSRF_FAILED})
        return response
    return render(request, "403_csrf.html", {"message": CSRF_FAILED}, status=403)


def body_too_large_detail(limit: int) -> str:
    """Return the message for a request body above ``limit`` bytes."""
    return (
        f"The request body is larger than the limit of {limit:,} bytes. "
        "Send a smaller body."
    )


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Return problem details under /api/, else Django's 400 page.

    Django calls this for errors raised before a view runs, such as a body
    above DATA_UPLOAD_MAX_MEMORY_SIZE, which gets 413 under /api/.
    """
    if not request.path.startswith(API_PREFIX):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return _problem(
            status=413,
            code="request_too_large",
            detail=body_too_large_detail(limit),
            max_bytes=limit,
        )
    return _problem(status=400, code="bad_request", detail="The request is invalid.")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Return problem details under /api/, else the site's 404 page."""
    if not request.path.startswith(API_PREFIX):
        return defaults.page_not_found(request, exception)
    return api_not_found(request)


def api_not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Return the 404 problem for a path under /api/ that names no endpoint.

    Routed as a catch-all after the API's URLs too, because Django shows its
    HTML debug page instead of handler404 when DEBUG is on. The catch-all
    also takes paths without their trailing slash, so the detail names the
    slashed path when that one is an endpoint.
    """
    detail = "No API endpoint has this path. The endpoints are listed at /api/v1/docs/."
    with_slash = request.path + "/"
    if not request.path.endswith("/") and _is_endpoint(with_slash):
        detail = f"No API endpoint has this path. Did you mean {with_slash}?"
    return _problem(status=404, code="not_found", detail=detail)


def _is_endpoint(path: str) -> bool:
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return match.func is not api_not_found


def _problem(*, status: int, code: str, detail: str, **extra) -> JsonResponse:
    body = problem_body(status=status, code=code, detail=detail, **extra)
    return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)
