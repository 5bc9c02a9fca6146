"""Keyboard focus after case page actions that replace the page's main area.

htmx swaps #case-main with outerHTML. Focus must stay on the control the
agent used when it still exists, and otherwise move to the success message
next to it. It must never fall back to <body>. After a validation error
(422) focus moves to the first invalid field, whose description is its
error message.
"""

import pytest
from playwright.sync_api import Page, expect

from cases.mail.models import OutboundEmail
from cases.models import CaseMessage, Customer
from cases.tests.factories import make_case
from refunds.models import RefundRequest
from refunds.tests.factories import file_refund, recent_order

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FOCUSED_ID = "document.activeElement && document.activeElement.id"


# True once htmx has no request, swap or settle in progress.
HTMX_IDLE = "!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"


def press_tab_until(page: Page, element_id: str, limit: int = 120) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(FOCUSED_ID) == element_id:
            return
    raise AssertionError(f"#{element_id} not focused after {limit} Tab presses")


def test_approve_with_keyboard_focuses_message(
    page_for, check_page, agent, policy, refunds_team
):
    refund = file_refund(recent_order())
    page = page_for(agent)
    page.goto(f"/cases/{refund.case.reference}/")

    press_tab_until(page, "approve-button")
    page.keyboard.press("Enter")

    message = page.locator("#refund-heading ~ #action-done")
    expect(message).to_have_text("Refund approved.")
    expect(message).to_be_focused()
    assert message.get_attribute("tabindex") == "-1"
    assert RefundRequest.objects.get(pk=refund.pk).status == "approved"
    check_page(page, "case-focus-after-approve")


def test_reject_focuses_message_in_refund_panel(page_for, agent, policy, refunds_team):
    refund = file_refund(recent_order())
    page = page_for(agent)
    page.goto(f"/cases/{refund.case.reference}/")

    page.get_by_label("Reason for the customer").fill("Outside the window.")
    page.get_by_role("button", name="Reject refund").press("Enter")

    message = page.locator("#refund-heading ~ #action-done")
    expect(message).to_have_text("Refund rejected.")
    expect(message).to_be_focused()


def test_take_focuses_message_when_button_goes(page_for, agent, refunds_team):
    case = make_case(refunds_team)
    page = page_for(agent)
    page.goto(f"/cases/{case.reference}/")

    page.locator("#take-button").press("Enter")

    message = page.locator(".case__actions").locator("xpath=preceding-sibling::*[1]")
    expect(message).to_have_text("The case is yours.")
    expect(message).to_be_focused()


def test_tag_remove_focuses_message(page_for, agent, refunds_team):
    case = make_case(refunds_team)
    page = page_for(agent)
    page.goto(f"/cases/{case.reference}/")
    page.locator("#id_tag_tag").fill("fragile")
    page.locator("#id_tag_tag").press("Enter")
    expect(page.get_by_role("button", name="Remove tag fragile")).to_be_visible()
    expect(page.locator("#id_tag_tag")).to_be_focused()
    # Under load, a key press while the add-tag swap was still settling was
    # sometimes lost, so wait until htmx has finished the swap.
    page.wait_for_function(HTMX_IDLE)

    page.get_by_role("button", name="Remove tag fragile").press("Enter")

    expect(page.locator("#action-done")).to_have_text("Tag removed.")
    expect(page.locator("#action-done")).to_be_focused()


def test_status_change_keeps_focus_and_announces(page_for, agent, refunds_team):
    case = make_case(refunds_team)
    page = page_for(agent)
    page.goto(f"/cases/{case.reference}/")

    page.locator("#status-select").select_option("pending")
    page.locator("#status-button").press("Enter")

    expect(page.locator(".case__meta .badge")).to_contain_text("Pending")
    expect(page.locator("#status-button")).to_be_focused()
    expect(page.locator("#announcer")).to_have_text("Status changed.")


def test_note_keeps_focus_and_announces(page_for, agent, refunds_team):
    case = make_case(refunds_team)
    page = page_for(agent)
    page.goto(f"/cases/{case.reference}/")

    page.locator("#id_note_body").fill("Called the courier.")
    page.locator("#note-button").press("Enter")

    expect(page.locator(".thread")).to_contain_text("Called the courier.")
    expect(page.locator("#note-button")).to_be_focused()
    expect(page.locator("#announcer")).to_have_text("Note added.")


def test_send_and_set_pending_with_keyboard(page_for, check_page, agent, refunds_team):
    case = make_case(refunds_team)
    page = page_for(agent)
    page.goto(f"/cases/{case.reference}/")
    page.keyboard.press("r")
    page.keyboard.type("The return label is attached.")
    check_page(page, "case-reply-options")

    press_tab_until(page, "reply-pending-button")
    page.keyboard.press("Enter")

    expect(page.locator(".case__meta .badge")).to_contain_text("Pending")
    message = page.locator("#action-done")
    expect(message).to_have_text(
        "Reply sent and the case set to pending (waiting on customer)."
    )
    expect(message).to_be_focused()
    expect(page.locator(".thread")).to_contain_text("The return label is attached.")


def test_send_to_supervisor_with_keyboard(
    page_for, check_page, agent, policy, refunds_team
):
    order = recent_order(lines=[("Winter Coat", "150.00", 1, "COAT-1")])
    refund = file_refund(order, {"Winter Coat": 1})
    page = page_for(agent)
    page.goto(f"/cases/{refund.case.reference}/")
    check_page(page, "case-send-to-supervisor")

    page.get_by_label("Note for the supervisor").fill("Seam split on day one.")
    page.locator("#escalate-button").press("Enter")

    message = page.locator("#refund-heading ~ #action-done")
    expect(message).to_have_text("Refund sent to a supervisor.")
    expect(message).to_be_focused()
    expect(page.locator("#escalation-note")).to_contain_text("recommends $150.00")
    assert RefundRequest.objects.get(pk=refund.pk).status == "requested"
    check_page(page, "case-sent-to-supervisor")


ACTIVE_DESCRIPTION = """() => {
    const described = document.activeElement.getAttribute("aria-describedby");
    const ids = (described || "").split(" ");
    return ids.map((id) => document.getElementById(id))
        .filter(Boolean).map((node) => node.textContent).join(" ");
}"""


def test_reject_error_focuses_reason_with_keyboard(
    page_for, agent, policy, refunds_team
):
    refund = file_refund(recent_order())
    page = page_for(agent)
    page.goto(f"/cases/{refund.case.reference}/")

    press_tab_until(page, "reject-button")
    page.keyboard.press("Enter")

    expect(page.locator("#id_reject_reason")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_reject_reason")).to_be_focused()
    assert page.evaluate(FOCUSED_ID) == "id_reject_reason"
    assert "reason for the rejection" in page.evaluate(ACTIVE_DESCRIPTION)
    assert RefundRequest.objects.get(pk=refund.pk).status == "requested"


def test_approve_error_focuses_amount_with_keyboard(
    page_for, agent, policy, refunds_team
):
    refund = file_refund(recent_order())
    page = page_for(agent)
    page.goto(f"/cases/{refund.case.reference}/")

    press_tab_until(page, "id_approve_amount")
    page.keyboard.press("Control+A")
    page.keyboard.type("abc")
    press_tab_until(page, "approve-button")
    page.keyboard.press("Enter")

    expect(page.locator("#id_approve_amount")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_approve_amount")).to_be_focused()
    assert page.evaluate(FOCUSED_ID) == "id_approve_amount"
    assert "Error: 'abc' is not an amount." in page.evaluate(ACTIVE_DESCRIPTION)
    assert RefundRequest.objects.get(pk=refund.pk).status == "requested"


def test_escalate_error_focuses_note_with_keyboard(
    page_for, agent, policy, refunds_team
):
    order = recent_order(lines=[("Winter Coat", "150.00", 1, "COAT-1")])
    refund = file_refund(order, {"Winter Coat": 1})
    page = page_for(agent)
    page.goto(f"/cases/{refund.case.reference}/")

    press_tab_until(page, "escalate-button")
    page.keyboard.press("Enter")

    expect(page.locator("#id_escalate_reason")).to_have_attribute(
        "aria-invalid", "true"
    )
    expect(page.locator("#id_escalate_reason")).to_be_focused()
    assert page.evaluate(FOCUSED_ID) == "id_escalate_reason"
    assert "Error: Tell the supervisor why" in page.evaluate(ACTIVE_DESCRIPTION)
    assert not page.locator("#escalation-note").count()


def test_reply_then_note_keyboard_flow(page_for, check_page, agent, refunds_team):
    customer = Customer.objects.create(
        key="email:ana@example.test", email="ana@example.test", name="Ana Tester"
    )
    case = make_case(refunds_team, customer=customer)
    page = page_for(agent)
    page.goto(f"/cases/{case.reference}/")

    page.keyboard.press("r")
    page.keyboard.type("We have sent a new parcel.")
    page.keyboard.press("Control+Enter")
    message = page.locator("#action-done")
    expect(message).to_have_text("Reply sent.")
    expect(message).to_be_focused()
    page.keyboard.press("p")
    expect(page.locator("#id_note_body")).to_be_focused()
    page.keyboard.type("Internal: customer seems fine")
    check_page(page, "case-note-composer")
    page.keyboard.press("Control+Enter")

    expect(page.locator("#action-done")).to_have_text("Note added.")
    expect(page.locator("#action-done")).to_be_focused()
    stored = list(
        CaseMessage.objects.filter(case=case)
        .exclude(kind=CaseMessage.Kind.CUSTOMER)
        .order_by("pk")
        .values_list("kind", "body")
    )
    assert stored == [
        ("reply", "We have sent a new parcel."),
        ("note", "Internal: customer seems fine"),
    ]
    emails = OutboundEmail.objects.filter(case=case)
    assert [email.case_message.kind for email in emails] == ["reply"]
    assert [email.to_address for email in emails] == ["ana@example.test"]


def test_reply_and_note_composers_differ(page_for, agent, refunds_team):
    case = make_case(refunds_team)
    page = page_for(agent)
    page.goto(f"/cases/{case.reference}/")

    reply = page.locator("form.compose--reply")
    note = page.locator("form.compose--note")

    expect(reply.locator("button#reply-button")).to_have_text("Send reply to customer")
    expect(note.locator("button#note-button")).to_have_text("Add internal note")
    expect(reply.locator("h3")).to_contain_text("Emailed")
    expect(note.locator("h3")).to_contain_text("Agents only, not emailed")
    reply_colour = reply.evaluate("(form) => getComputedStyle(form).backgroundColor")
    note_colour = note.evaluate("(form) => getComputedStyle(form).backgroundColor")
    assert reply_colour != note_colour
