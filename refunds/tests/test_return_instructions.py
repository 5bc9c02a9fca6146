"""The policy's next steps for the customer: status page and received email."""

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from cases.audit import Actor
from refunds.models import OutboxMessage, RefundPolicy
from refunds.services import refund_approve, refund_reject
from refunds.services.outbox import outbox_deliver
from refunds.tests.factories import make_order, request_refund

pytestmark = pytest.mark.django_db

INSTRUCTIONS = "Keep the items.\nWe decide within 2 days. <b>Thanks</b> & bye"


@pytest.fixture
def instructed(policy):
    policy.return_instructions = INSTRUCTIONS
    policy.save()
    return policy


def test_new_policy_has_default_instructions():
    policy = RefundPolicy(name="New")

    assert policy.return_instructions.startswith("Keep the items for now.")


def test_status_page_shows_instructions_escaped(client, instructed):
    refund = request_refund(make_order())

    html = client.get(reverse("refunds:status", args=[refund.token])).content.decode()

    assert "What happens next" in html
    assert "Keep the items.<br>We decide within 2 days." in html
    assert "&lt;b&gt;Thanks&lt;/b&gt; &amp; bye" in html
    assert "<b>Thanks</b>" not in html


def test_rejected_request_shows_no_instructions(client, instructed, agent):
    refund = request_refund(make_order())
    refund_reject(refund=refund, actor=Actor.for_agent(agent), reason="Decided.")

    html = client.get(reverse("refunds:status", args=[refund.token])).content.decode()

    assert "Keep the items." not in html
    assert "We did not approve this request." in html


def test_approved_request_keeps_shop_instructions(client, instructed, agent):
    refund = request_refund(make_order())
    refund_approve(refund=refund, actor=Actor.for_agent(agent), reason="Decided.")

    html = client.get(reverse("refunds:status", args=[refund.token])).content.decode()

    assert "Keep the items.<br>We decide within 2 days." in html


def test_empty_instructions_show_nothing(client, policy):
    policy.return_instructions = "  "
    policy.save()
    refund = request_refund(make_order())

    html = client.get(reverse("refunds:status", args=[refund.token])).content.decode()

    assert "What happens next" not in html


def test_received_email_carries_instructions(instructed):
    request_refund(make_order())

    for message in OutboxMessage.objects.filter(channel="email"):
        outbox_deliver(message_id=str(message.pk))

    (received,) = mail.outbox
    html = str(received.alternatives[0][0])
    text = str(received.body)
    assert "Keep the items.\nWe decide within 2 days. <b>Thanks</b> & bye" in text
    assert "Keep the items.<br>We decide within 2 days." in html
    assert "&lt;b&gt;Thanks&lt;/b&gt; &amp; bye" in html


def test_approved_email_carries_items_text(policy, agent):
    refund = request_refund(make_order())
    refund_approve(refund=refund, actor=Actor.for_agent(agent), reason="")

    for message in OutboxMessage.objects.filter(channel="email"):
        outbox_deliver(message_id=str(message.pk))

    approved = next(m for m in mail.outbox if "approved" in m.subject.lower())
    assert isinstance(approved, EmailMultiAlternatives)
    items = "You do not need to send the items back unless we ask you to."
    assert items in str(approved.body)
    assert items in str(approved.alternatives[0][0])
