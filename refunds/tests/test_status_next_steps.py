"""The status page's "What happens next" section for each request status."""

import re

import pytest
from django.urls import reverse

from cases.audit import Actor
from refunds.models import RefundPolicy
from refunds.models.policy import DEFAULT_RETURN_INSTRUCTIONS
from refunds.services import refund_approve, refund_cancel, refund_reject
from refunds.services.decisions import refund_mark_refunded
from refunds.tests.factories import make_order, request_refund

pytestmark = pytest.mark.django_db


def next_steps_text(client, refund) -> str:
    """Return the section's text with tags removed and spaces collapsed."""
    html = client.get(reverse("refunds:status", args=[refund.token])).content.decode()
    match = re.search(r'<section class="next-steps".*?</section>', html, re.S)
    assert match, "the page has no next-steps section"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(0)).split())


def test_requested_shows_policy_instructions(client, policy):
    refund = request_refund(make_order())

    text = next_steps_text(client, refund)

    assert "What happens next" in text
    assert DEFAULT_RETURN_INSTRUCTIONS in text


def test_approved_shows_amount_and_items(client, policy, agent):
    refund = request_refund(make_order())
    refund_approve(refund=refund, actor=Actor.for_agent(agent), reason="")

    text = next_steps_text(client, refund)

    assert "The shop will pay $10.00 back to your original payment method." in text
    assert "We will email you again when the money is on its way." in text
    assert "You do not need to send the items back unless we ask you to." in text
    assert "We usually decide" not in text


def test_approved_shows_shop_items_text_escaped(client, policy, agent):
    policy.return_instructions = "Post the items to <b>Unit 4</b> & keep the receipt."
    policy.save()
    refund = request_refund(make_order())
    refund_approve(refund=refund, actor=Actor.for_agent(agent), reason="")

    html = client.get(reverse("refunds:status", args=[refund.token])).content.decode()

    assert "Post the items to &lt;b&gt;Unit 4&lt;/b&gt; &amp; keep the receipt." in html
    assert "<b>Unit 4</b>" not in html


def test_approved_unsent_order_has_no_items_text(client, policy, agent):
    refund = request_refund(make_order(fulfilled=False))
    refund_approve(refund=refund, actor=Actor.for_agent(agent), reason="")

    text = next_steps_text(client, refund)

    assert "The shop will pay $10.00 back" in text
    assert "send the items back" not in text


def test_rejected_shows_reason_and_reply(client, policy, agent):
    refund = request_refund(make_order())
    refund_reject(
        refund=refund, actor=Actor.for_agent(agent), reason="Used <item> & worn."
    )

    html = client.get(reverse("refunds:status", args=[refund.token])).content.decode()
    text = next_steps_text(client, refund)

    assert (
        "We did not approve this request. Reason: Used &lt;item&gt; &amp; worn." in text
    )
    assert "<item>" not in html
    reply = "If you have questions, write to our team below and we will answer."
    assert reply in text


def test_refunded_shows_reference_and_bank_delay(client, policy, agent):
    refund = request_refund(make_order())
    refund_approve(refund=refund, actor=Actor.for_agent(agent), reason="")
    refund_mark_refunded(
        refund=refund, actor=Actor.for_agent(agent), external_reference="re_<42>"
    )

    text = next_steps_text(client, refund)

    assert (
        "The shop paid $10.00 back to your original payment method with the "
        "payment reference re_&lt;42&gt;." in text
    )
    assert "Depending on your bank, it can take a few days to show." in text


def test_cancelled_explains_no_payment(client, policy, agent, supervisor):
    refund = request_refund(make_order())
    refund_approve(refund=refund, actor=Actor.for_agent(agent), reason="")
    refund_cancel(refund=refund, actor=Actor.for_agent(supervisor), reason="Dup.")

    text = next_steps_text(client, refund)

    assert "The shop cancelled this refund before paying it out" in text
    assert "no money will be sent for it" in text
    assert "Write to our team below if you want us to look at it again." in text


def test_closed_case_links_contact_form(client, policy, agent):
    refund = request_refund(make_order())
    refund_reject(refund=refund, actor=Actor.for_agent(agent), reason="Too late.")
    refund.case.status = "closed"
    refund.case.save(update_fields=["status"])

    html = client.get(reverse("refunds:status", args=[refund.token])).content.decode()

    assert f'<a href="{reverse("mail:contact")}">contact us</a>' in html


def test_empty_policy_text_hides_only_requested(client, policy, agent):
    policy.return_instructions = ""
    policy.save()
    waiting = request_refund(make_order())
    approved = request_refund(make_order("#1002"))
    refund_approve(refund=approved, actor=Actor.for_agent(agent), reason="")

    waiting_html = client.get(reverse("refunds:status", args=[waiting.token]))
    approved_text = next_steps_text(client, approved)

    assert "What happens next" not in waiting_html.content.decode()
    assert "The shop will pay" in approved_text
    assert "send the items back" not in approved_text
    assert RefundPolicy.objects.get().return_instructions == ""
