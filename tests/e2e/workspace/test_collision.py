"""Two agents on one case: presence, typing, and the held stale reply."""

import pytest
from playwright.sync_api import expect

from cases.models import CaseMessage
from cases.tests.factories import make_case

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_collision_warning_and_held_reply(
    check_page, page_for, agent, make_agent, refunds_team, fast_heartbeat
):
    case = make_case(refunds_team, subject="Broken kettle")
    jo = make_agent("Jo Agent")
    alex_page = page_for(agent)
    jo_page = page_for(jo)
    url = f"/cases/{case.reference}/"
    alex_page.goto(url)
    jo_page.goto(url)

    # Each page lists the other agent once a heartbeat has run.
    expect(alex_page.locator("#presence")).to_contain_text("Jo Agent")
    expect(jo_page.locator("#presence")).to_contain_text("Alex Agent")

    jo_page.get_by_label("Reply", exact=True).press_sequentially("On it")
    expect(alex_page.locator("#presence")).to_contain_text("(typing…)")

    jo_page.get_by_role("button", name="Send reply").click()
    expect(jo_page.locator(".thread")).to_contain_text("On it")
    expect(alex_page.locator("#presence")).to_contain_text(
        "This case changed after you opened it"
    )
    check_page(alex_page, "workspace-collision-warning")

    alex_page.get_by_label("Reply", exact=True).fill("I will refund you")
    alex_page.get_by_role("button", name="Send reply").click()

    expect(alex_page.get_by_role("alert")).to_contain_text(
        "This case changed while you were working on it"
    )
    expect(alex_page.locator(".thread")).to_contain_text("On it")
    expect(alex_page.get_by_label("Reply", exact=True)).to_have_value(
        "I will refund you"
    )
    assert not CaseMessage.objects.filter(body="I will refund you").exists()
    check_page(alex_page, "workspace-reply-held")

    alex_page.get_by_role("button", name="Send reply").click()

    expect(alex_page.locator(".thread")).to_contain_text("I will refund you")
    assert CaseMessage.objects.filter(body="I will refund you").count() == 1
