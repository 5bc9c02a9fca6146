"""Browser checks of the contact form and the survey page: WCAG 2.2 AA with axe.

Drives Debian's Chromium through Playwright against the live test server
and saves a screenshot of each page under var/screenshots/.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from playwright.sync_api import sync_playwright

from cases.audit import Actor
from cases.models import Customer, SatisfactionSurvey, SupportCase
from cases.services import case_change_status, case_create

# Playwright's sync API runs an event loop in this thread; the Django ORM
# calls made by the tests themselves are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

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
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def axe_violations(page) -> list[str]:
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    # An empty list means something only if axe ran its rules on the page.
    assert results.response["passes"], "axe-core checked no rule on the page"
    return [
        f"{violation['id']}: {violation['help']}"
        for violation in results.response["violations"]
    ]


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def test_contact_form_accessible_with_errors(live_server, page):
    page.goto(f"{live_server.url}/contact/")
    assert axe_violations(page) == []
    screenshot(page, "contact-form")

    page.get_by_label("Email address").fill("not-an-address")
    page.get_by_role("button", name="Send message").click()

    assert page.locator("#id_email_error").is_visible()
    assert page.get_by_label("Email address").get_attribute("aria-invalid") == "true"
    assert axe_violations(page) == []
    screenshot(page, "contact-form-errors")


def test_contact_form_opens_case(live_server, page):
    page.goto(f"{live_server.url}/contact/")
    page.get_by_label("Your name").fill("Zoë 🚀 Tester")
    page.get_by_label("Email address").fill("zoe.e2e@example.org")
    page.get_by_label("Subject").fill("Colis abîmé 📦")
    page.get_by_label("Your message").fill("The box arrived crushed.")
    page.get_by_role("button", name="Send message").click()

    page.wait_for_url("**/contact/sent/")
    case = SupportCase.objects.get()
    assert case.subject == "Colis abîmé 📦"
    assert case.reference in page.content()
    assert axe_violations(page) == []
    screenshot(page, "contact-sent")


def test_survey_page_accessible_and_answered(live_server, page, agent):
    customer = Customer.objects.create(
        key="email:zoe.survey@example.org", email="zoe.survey@example.org"
    )
    case = case_create(
        actor=Actor.customer("Zoë"),
        subject="Parcel late",
        channel=SupportCase.Channel.EMAIL,
        body="Where is it?",
        customer=customer,
    )
    case_change_status(case=case, actor=Actor.for_agent(agent), status="solved")
    survey = SatisfactionSurvey.objects.get()

    page.goto(f"{live_server.url}/survey/{survey.token}/?rating=4")
    assert page.get_by_label("4: Satisfied").is_checked()
    assert axe_violations(page) == []
    screenshot(page, "survey")

    page.get_by_label("Comment").fill("Quick and kind 👍")
    page.get_by_role("button", name="Send my rating").click()

    page.get_by_text("Your rating is").wait_for()
    survey.refresh_from_db()
    assert survey.rating == 4
    assert survey.comment == "Quick and kind 👍"
    assert axe_violations(page) == []
    screenshot(page, "survey-answered")
