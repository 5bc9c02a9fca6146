"""The refund flow in headless Chromium: customer, agent, then customer again.

Every page is checked with axe-core against WCAG 2.2 AA and saved as a
screenshot in test-artifacts/screenshots/.
"""

from __future__ import annotations

import re

import pytest
from django.urls import path
from playwright.sync_api import Locator, Page, expect

from cases.models import AuditEvent, SupportCase
from refunds.models import RefundRequest
from refunds.tests.factories import file_refund, open_cases, recent_order
from supportdesk import urls as project_urls

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("browser"),
]

PASSWORD = "pass-for-tests"


@pytest.fixture
def desk(policy, refunds_team, agent):
    """A refunds team with Alex Agent, a policy and order #1001."""
    return recent_order()


def log_in(page: Page, next_url: str = "/queue/") -> None:
    page.goto(f"/login/?next={next_url}")
    page.get_by_label("Username").fill("alexagent")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def status_badge(page: Page) -> Locator:
    return page.locator(".summary .badge").first


def check_phone_width(page: Page, check_page, name: str) -> None:
    """Check the page at a phone's width: no sideways page scroll, no violation."""
    size = page.viewport_size
    assert size is not None, "the page has no fixed viewport"
    page.set_viewport_size({"width": 375, "height": 800})
    try:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{name}: the page is {width}px wide"
        check_page(page, name)
    finally:
        page.set_viewport_size(size)


def test_refund_flow_with_mouse(new_page, check_page, desk):
    customer = new_page()
    customer.goto("/")
    check_page(customer, "home")
    customer.get_by_role("link", name="Request a refund").first.click()
    check_page(customer, "lookup")

    customer.get_by_label("Order number").fill("#9999")
    customer.get_by_label("Email address").fill("ana.tester@example.com")
    customer.get_by_role("button", name="Find my order").click()
    expect(customer.get_by_role("alert")).to_contain_text("could not find an order")
    check_page(customer, "lookup-error")
    customer.get_by_label("Order number").fill("1001")
    customer.get_by_role("button", name="Find my order").click()
    expect(customer).to_have_url(re.compile(r"/refund/orders/\d+/$"))

    customer.get_by_label("Quantity of Blue Mug to return").fill("1")
    eligibility = customer.locator("#eligibility")
    expect(eligibility).to_contain_text("Eligible for review: $12.00")
    customer.get_by_label("Reason", exact=True).select_option("damaged")
    customer.get_by_label("Tell us more").fill("Crack in the glaze 😞")
    check_page(customer, "order-eligibility")
    check_phone_width(customer, check_page, "order-phone")
    customer.get_by_role("button", name="Send refund request").click()

    refund = RefundRequest.objects.get()
    expect(customer.get_by_role("heading", level=1)).to_have_text(
        f"Refund request {refund.reference}"
    )
    expect(status_badge(customer)).to_have_text("Awaiting decision")
    status_url = customer.url
    assert refund.token in status_url
    check_page(customer, "status-requested")

    agent = new_page()
    agent.goto("/queue/")
    expect(agent).to_have_url(re.compile(r"/login/\?next=/queue/$"))
    check_page(agent, "login")
    log_in(agent)
    expect(agent).to_have_url(re.compile(r"/queue/$"))
    check_page(agent, "queue")
    check_phone_width(agent, check_page, "queue-phone")
    agent.get_by_role("link", name=refund.case.reference).click()
    expect(agent.get_by_text("Crack in the glaze 😞")).to_be_visible()
    check_page(agent, "case-refund")
    expect(agent.get_by_label("Amount to refund")).to_have_value("12.00")
    agent.get_by_role("button", name="Approve refund").dblclick()
    expect(agent.locator("#refund-heading + .summary .badge")).to_have_text("Approved")
    expect(agent.get_by_text("is already approved")).to_have_count(0)
    assert AuditEvent.objects.filter(action="refunds.refund.approved").count() == 1
    check_page(agent, "case-approved")

    customer.goto(status_url)
    expect(status_badge(customer)).to_have_text("Approved")
    expect(customer.locator("#timeline")).to_contain_text("Approved: $12.00")
    next_steps = customer.locator(".next-steps")
    expect(next_steps).to_contain_text(
        "The shop will pay $12.00 back to your original payment method."
    )
    expect(next_steps).to_contain_text(
        "You do not need to send the items back unless we ask you to."
    )
    customer.get_by_label("Write to our team").fill("Thank you!")
    customer.get_by_role("button", name="Send message").click()
    expect(customer.locator("#timeline")).to_contain_text("Thank you!")
    check_page(customer, "status-approved")

    customer.goto("/no-such-page/")
    expect(customer.get_by_role("heading", level=1)).to_have_text("Page not found")
    check_page(customer, "404")


def test_quantity_error_names_item_and_marks_input(new_page, check_page, desk):
    customer = new_page()
    customer.goto("/refund/")
    customer.get_by_label("Order number").fill("#1001")
    customer.get_by_label("Email address").fill("ana.tester@example.com")
    customer.get_by_role("button", name="Find my order").click()
    mug = customer.get_by_label("Quantity of Blue Mug to return")
    towel = customer.get_by_label("Quantity of Tea Towel to return")

    mug.fill("9")

    message = customer.locator(f"#{mug.get_attribute('id')}_error")
    expect(message).to_have_text("Error: Blue Mug: you ordered 2; enter at most 2.")
    expect(mug).to_have_attribute("aria-invalid", "true")
    expect(mug).to_have_attribute(
        "aria-describedby", f"{mug.get_attribute('id')}_error"
    )
    expect(towel).not_to_have_attribute("aria-invalid", "true")
    expect(mug).to_be_focused()
    check_page(customer, "order-quantity-error")

    mug.fill("1")

    expect(customer.locator("#eligibility")).to_contain_text("Eligible for review")
    expect(mug).not_to_have_attribute("aria-invalid", "true")
    expect(mug).not_to_have_attribute("aria-describedby", re.compile(".+"))


def tab_to(page: Page, target: Locator, limit: int = 80) -> None:
    """Press Tab until ``target`` has focus; fail if it never gets it."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            outline = target.evaluate("e => getComputedStyle(e).outlineStyle")
            assert outline != "none", "focused element shows no outline"
            return
    raise AssertionError(f"Tab never reached {target}")


def test_refund_flow_with_keyboard(new_page, check_page, desk):
    customer = new_page()
    customer.goto("/")
    tab_to(customer, customer.get_by_role("link", name="Skip to main content"))
    check_page(customer, "home-skip-link-focused")
    tab_to(
        customer, customer.locator(".card").get_by_role("link", name="Request a refund")
    )
    customer.keyboard.press("Enter")
    tab_to(customer, customer.get_by_label("Order number"))
    customer.keyboard.type("#1001")
    tab_to(customer, customer.get_by_label("Email address"))
    customer.keyboard.type("ana.tester@example.com")
    customer.keyboard.press("Enter")
    expect(customer).to_have_url(re.compile(r"/refund/orders/\d+/$"))

    tab_to(customer, customer.get_by_label("Quantity of Tea Towel to return"))
    customer.keyboard.press("ArrowUp")
    expect(customer.locator("#eligibility")).to_contain_text(
        "Eligible for review: $8.00"
    )
    tab_to(customer, customer.get_by_label("Reason", exact=True))
    customer.keyboard.press("ArrowDown")
    expect(customer.get_by_label("Reason", exact=True)).to_have_value("damaged")
    submit = customer.get_by_role("button", name="Send refund request")
    tab_to(customer, submit)
    check_page(customer, "order-submit-focused")
    customer.keyboard.press("Space")
    expect(status_badge(customer)).to_have_text("Awaiting decision")
    status_url = customer.url
    case = SupportCase.objects.get()

    agent = new_page()
    agent.goto("/login/?next=/queue/")
    tab_to(agent, agent.get_by_label("Username"))
    agent.keyboard.type("alexagent")
    tab_to(agent, agent.get_by_label("Password"))
    agent.keyboard.type(PASSWORD)
    agent.keyboard.press("Enter")
    expect(agent).to_have_url(re.compile(r"/queue/$"))
    tab_to(agent, agent.get_by_role("link", name=case.reference))
    agent.keyboard.press("Enter")
    expect(agent.get_by_role("heading", level=1)).to_contain_text(case.reference)
    approve = agent.get_by_role("button", name="Approve refund")
    tab_to(agent, approve)
    check_page(agent, "case-approve-focused")
    agent.keyboard.press("Enter")
    expect(agent.locator("#refund-heading + .summary .badge")).to_have_text("Approved")

    customer.goto(status_url)
    expect(status_badge(customer)).to_have_text("Approved")


def test_queue_history_and_expired_session(new_page, desk, refunds_team):
    open_cases(30, refunds_team)
    page = new_page()
    log_in(page)
    page.evaluate("window.loadedOnce = true")

    page.get_by_role("link", name="Next page").click()
    expect(page).to_have_url(re.compile(r"/queue/\?page=2$"))
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()
    assert page.evaluate("window.loadedOnce === true"), "the page was reloaded"
    page.get_by_role("link", name=re.compile(r"^C-\d+$")).first.click()
    expect(page).to_have_url(re.compile(r"/cases/C-\d+/$"))

    page.go_back()
    expect(page).to_have_url(re.compile(r"/queue/\?page=2$"))
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()
    expect(page.locator("header.site-header")).to_be_visible()
    page.evaluate("localStorage.clear()")
    page.go_back()
    expect(page).to_have_url(re.compile(r"/queue/$"))
    expect(page.get_by_text("Page 1 of 2")).to_be_visible()
    expect(page.locator("header.site-header")).to_have_count(1)
    expect(page.locator("h1")).to_have_text("Queue")
    page.goto("/queue/?page=2")
    expect(page.locator("header.site-header")).to_have_count(1)
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()

    page.goto("/queue/")
    page.context.clear_cookies(name="sessionid")
    page.get_by_role("link", name="Next page").click()
    expect(page).to_have_url(re.compile(r"/login/\?next=/queue/%3Fpage%3D2$"))
    expect(page.locator("header.site-header")).to_have_count(1)
    page.get_by_label("Username").fill("alexagent")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/queue/\?page=2$"))
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()


def server_error(request):
    raise RuntimeError("Raised on purpose by the browser test.")


urlpatterns = [
    path("test-error/", server_error),
    *project_urls.urlpatterns,
]


def test_errors_shown_in_page(new_page, desk, settings):
    settings.ROOT_URLCONF = __name__
    refund = file_refund(desk)
    page = new_page()
    log_in(page, f"/cases/{refund.case.reference}/")

    amount = page.get_by_label("Amount to refund")
    amount.fill("1,000")
    page.get_by_role("button", name="Approve refund").click()
    expect(page.locator("#id_approve_amount_error")).to_contain_text("is ambiguous")
    expect(amount).to_have_attribute("aria-invalid", "true")

    page.evaluate(
        """() => {
          const button = document.createElement("button");
          button.textContent = "Fail";
          button.setAttribute("hx-post", "/test-error/");
          document.querySelector("#case-main").append(button);
          htmx.process(button);
        }"""
    )
    page.get_by_role("button", name="Fail").click()
    toast = page.locator("#toast")
    expect(toast).to_be_visible()
    expect(toast).to_contain_text("Something went wrong on the server (500)")
    expect(page.locator("#case-main h1")).to_contain_text(refund.case.reference)

    # Logging in elsewhere gives the browser a new CSRF cookie, so the token
    # in this page no longer matches it.
    page.context.add_cookies(
        [{"name": "csrftoken", "value": "x" * 32, "domain": "127.0.0.1", "path": "/"}]
    )
    page.get_by_label("Note (agents only)").fill("Sent with a stale token")
    page.get_by_role("button", name="Add internal note").click()
    expect(toast).to_contain_text("This page is out of date or your session ended")
    expect(page.get_by_label("Note (agents only)")).to_have_value(
        "Sent with a stale token"
    )
    refund.refresh_from_db()
    assert refund.status == RefundRequest.Status.REQUESTED
    assert refund.case.messages.count() == 1


def test_refund_flow_without_javascript(browser, live_server, desk):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        customer = context.new_page()
        customer.goto("/refund/")
        customer.get_by_label("Order number").fill("#1001")
        customer.get_by_label("Email address").fill("ana.tester@example.com")
        customer.get_by_role("button", name="Find my order").click()
        customer.get_by_label("Quantity of Blue Mug to return").fill("2")
        customer.get_by_role("button", name="Check eligibility").click()
        expect(customer.locator("#eligibility")).to_contain_text(
            "Eligible for review: $24.00"
        )
        customer.get_by_label("Reason", exact=True).select_option("wrong_item")
        customer.get_by_role("button", name="Send refund request").click()
        expect(status_badge(customer)).to_have_text("Awaiting decision")
        customer.get_by_label("Write to our team").fill("Sent without JavaScript")
        customer.get_by_role("button", name="Send message").click()
        expect(customer.locator("#timeline")).to_contain_text("Sent without JavaScript")

        agent = context.new_page()
        log_in(agent, f"/cases/{SupportCase.objects.get().reference}/")
        agent.get_by_label("Amount to refund").fill("20")
        agent.get_by_role("button", name="Approve refund").click()
        expect(agent.get_by_role("status")).to_contain_text("Refund approved.")
        customer.reload()
        expect(status_badge(customer)).to_have_text("Approved")
        expect(customer.locator("#timeline")).to_contain_text(
            "Approved: $20.00 of the $24.00 requested"
        )
    finally:
        context.close()
