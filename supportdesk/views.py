"""Project-wide error views."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

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
