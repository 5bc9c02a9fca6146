"""Browser fixtures for the agent workspace journeys: Chromium and logged-in pages.

Playwright drives Debian's /usr/bin/chromium against pytest-django's live
server, which runs in this process on the test database.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.test import Client
from playwright.sync_api import sync_playwright

from cases import presence

# Playwright's sync API runs an event loop in this thread. Django raises
# SynchronousOnlyOperation on database calls there unless this is set.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SCREENSHOTS = Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


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
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield open_page
    for context in contexts:
        context.close()


def axe_violations(page) -> list[str]:
    """Run axe-core's WCAG 2.2 AA rules on the page; return what fails."""
    results = Axe().run(
        page,
        options={"runOnly": {"type": "tag", "values": AXE_TAGS}},
    )
    return [
        f"{violation['id']}: {node['target']}"
        for violation in results.response["violations"]
        for node in violation["nodes"]
    ]


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
