"""Turn a misconfigured refund policy into a 503 page instead of a 500."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django_htmx.http import HttpResponseClientRefresh

from refunds.selectors import PolicyMisconfigured
from supportdesk.htmx import render_page


class PolicyMisconfiguredMiddleware:
    """Render a 503 page for requests that need the broken refund policy.

    The selector has already logged the broken values. The API returns the
    same error as problem details through its own exception handler. An htmx
    request gets HX-Refresh, because htmx does not swap a 503 into the page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        if not isinstance(exception, PolicyMisconfigured):
            return None
        if getattr(request, "htmx", False):
            return HttpResponseClientRefresh()
        return render_page(
            request,
            "refunds/policy_misconfigured.html",
            {"message": exception.message},
            status=exception.status_code,
        )
