"""Keyboard only: log in, take the next case and reply without a mouse."""

import pytest
from playwright.sync_api import expect

from cases.models import CaseMessage, SupportCase
from cases.tests.factories import make_case

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_reply_with_the_keyboard_alone(
    check_page, browser, live_server, agent, refunds_team
):
    case = make_case(refunds_team, subject="Wrong size")
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    keyboard = page.keyboard

    page.goto("/login/")
    keyboard.type(agent.user.username)
    keyboard.press("Tab")
    keyboard.type("pass-for-tests")
    keyboard.press("Enter")
    expect(page).to_have_url("/queue/")

    keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    check_page(page, "workspace-shortcuts-help")
    keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    keyboard.press("n")
    expect(page).to_have_url(f"/cases/{case.reference}/")
    keyboard.press("r")
    expect(page.get_by_label("Reply", exact=True)).to_be_focused()
    keyboard.type("A new size is on its way.")
    keyboard.press("Control+Enter")

    expect(page.locator(".thread")).to_contain_text("A new size is on its way.")
    message = CaseMessage.objects.get(body="A new size is on its way.")
    assert message.kind == "reply"
    assert message.author_agent == agent
    context.close()


def test_queue_rows_move_and_open_with_keys(page_for, agent, refunds_team):
    first = make_case(refunds_team, subject="First row")
    make_case(refunds_team, subject="Second row")
    page = page_for(agent)
    page.goto("/queue/?sort=oldest")

    page.keyboard.press("j")
    expect(page.get_by_role("link", name=first.reference)).to_be_focused()
    page.keyboard.press("x")
    expect(page.get_by_label(f"Select {first.reference}")).to_be_checked()
    page.keyboard.press("j")
    page.keyboard.press("k")
    page.keyboard.press("Enter")

    expect(page).to_have_url(f"/cases/{first.reference}/")


def test_single_key_shortcuts_can_be_turned_off(page_for, agent, refunds_team):
    case = make_case(refunds_team)
    page = page_for(agent)
    page.goto("/queue/")
    page.keyboard.press("?")
    page.get_by_label("Use single-key shortcuts").uncheck()
    page.keyboard.press("Escape")
    page.reload()

    page.keyboard.press("n")
    page.wait_for_load_state("networkidle")

    expect(page).to_have_url("/queue/")
    assert SupportCase.objects.get(pk=case.pk).assignee is None
