"""The admin reports page in Chromium: WCAG 2.2 AA with axe, and the keyboard."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

# The known desk of the reports' unit tests, with its SLA policy.
from cases.reports.tests.conftest import desk, sla_policy  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_reports_page_accessible_by_keyboard(
    check_page,
    new_page,
    desk,  # noqa: F811
    supervisor,
):
    page = new_page()
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(supervisor.user.username)
    page.get_by_label("Password").fill("pass-for-tests")
    page.get_by_label("Password").press("Enter")
    page.get_by_role("link", name="Cases, refunds and agents by period").click()
    expect(page.get_by_role("heading", name="Reports", level=1)).to_be_visible()

    page.get_by_label("From").fill("2025-03-01")
    page.get_by_label("To", exact=True).fill("2025-03-31")
    page.get_by_label("Team").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Show report")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"start=2025-03-01&end=2025-03-31"))
    expect(page.get_by_text("01 Mar 2025 to 31 Mar 2025")).to_be_visible()
    agents = page.get_by_role("table", name="Figures per agent")
    expect(agents.get_by_role("rowheader", name="Alex Agent")).to_be_visible()
    check_page(page, "admin-reports")

    page.get_by_label("To", exact=True).fill("2025-02-01")
    page.get_by_label("To", exact=True).press("Enter")

    expect(page.get_by_role("alert")).to_contain_text("To: The last day")
    check_page(page, "admin-reports-invalid")
