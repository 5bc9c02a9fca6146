"""Take next in the browser: the most urgent case opens, assigned to the agent."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.models import SupportCase
from cases.tests.factories import make_case

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_take_next_opens_most_urgent_case(check_page, page_for, agent, refunds_team):
    make_case(refunds_team, subject="Can wait")
    urgent = make_case(refunds_team, subject="Due first")
    SupportCase.objects.filter(pk=urgent.pk).update(
        sla_due_at=timezone.now() + timedelta(minutes=20)
    )
    page = page_for(agent)
    page.goto("/queue/")
    expect(page.locator("#count-mine")).to_contain_text("0")
    expect(page.locator("#count-breaching")).to_contain_text("1")
    check_page(page, "workspace-queue")

    page.get_by_role("button", name="Take next case").click()

    expect(page).to_have_url(f"/cases/{urgent.reference}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Due first")
    expect(page.get_by_text(f"{urgent.reference} is now yours.")).to_be_visible()
    assert SupportCase.objects.get(pk=urgent.pk).assignee == agent
    check_page(page, "workspace-case-taken")

    page.goto("/queue/")
    expect(page.locator("#count-mine")).to_contain_text("1")


def test_take_next_without_javascript(page_for, agent, refunds_team):
    case = make_case(refunds_team, subject="Plain form post")
    page = page_for(agent, javascript=False)
    page.goto("/queue/")

    page.get_by_role("button", name="Take next case").click()

    expect(page).to_have_url(f"/cases/{case.reference}/")
    page.get_by_label("Reply", exact=True).fill("Answered without JavaScript")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("Answered without JavaScript")).to_be_visible()
    expect(page.get_by_text("Reply sent.")).to_be_visible()


def test_empty_queue_explains(page_for, agent, refunds_team):
    page = page_for(agent)
    page.goto("/queue/")

    page.get_by_role("button", name="Take next case").click()

    expect(page.get_by_text("No case is waiting in your teams")).to_be_visible()
