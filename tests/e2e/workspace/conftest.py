"""Logged-in browser pages for the agent workspace journeys.

The browser, the live server and ``check_page`` (screenshot, duplicate ids
and axe-core's WCAG 2.2 AA rules) come from tests/e2e/conftest.py.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from cases import presence


@pytest.fixture
def fast_heartbeat(monkeypatch):
    """Poll presence every second, so collision tests need not wait ten."""
    monkeypatch.setattr(presence, "HEARTBEAT_SECONDS", 1)


@pytest.fixture
def page_for(browser, live_server):
    """Return a function that opens a browser page logged in as an agent."""
    contexts = []

    def open_page(agent, *, javascript: bool = True):
        client = Client()
        client.force_login(agent.user)
        context = browser.new_context(
            base_url=live_server.url,
            java_script_enabled=javascript,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(10_000)
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": live_server.url,
                }
            ]
        )
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
