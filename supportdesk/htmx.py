"""htmx helpers shared by every app: partial rendering and login redirects."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render, resolve_url
from django.utils.cache import patch_vary_headers
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request that has passed through django-htmx's HtmxMiddleware."""

    htmx: HtmxDetails


def wants_partial(request: HttpRequest) -> bool:
    """Return True for an htmx request that swaps a fragment.

    A history restore (Back after the cache missed) and a boosted navigation
    need the whole page, or the browser would show a bare fragment.
    """
    htmx = getattr(request, "htmx", None)
    if not htmx:
        return False
    return not htmx.history_restore_request and not htmx.boosted


def render_page(
    request: HttpRequest,
    template: str,
    context: dict,
    *,
    partial: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render ``template``, or only its ``partial`` for htmx fragment requests."""
    name = f"{template}#{partial}" if partial and wants_partial(request) else template
    response = render(request, name, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


class HtmxLoginRedirectMiddleware:
    """Send htmx requests that need a login to the login page as a whole page.

    Without this, htmx follows the 302 and swaps the login form into the
    target. After login the agent returns to ``next``. For a GET, that is
    the URL requested, because every GET that htmx sends here is also a page,
    such as a queue page pushed to the history. For a POST, it is the page
    the agent was on, from the HX-Current-URL header.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HtmxHttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not getattr(request, "htmx", False) or response.status_code != 302:
            return response
        login_path = urlsplit(resolve_url(settings.LOGIN_URL)).path
        if urlsplit(response["Location"]).path != login_path:
            return response
        if request.method == "GET":
            page = request.get_full_path()
        else:
            page = request.htmx.current_url_abs_path or request.get_full_path()
        return HttpResponseClientRedirect(redirect_to_login(page).url)
