"""Replies sent by email: encoding, escaping, and what happens when sending fails."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from cases.audit import Actor
from cases.mail.models import OutboundEmail
from cases.models import CaseMessage, Customer, SupportCase
from cases.services import case_create, case_reply
from cases.tests.mail_helpers import parse_sent

pytestmark = pytest.mark.django_db

XSS = "</td><script>alert(document.cookie)</script> & <b>bold</b>"


@pytest.fixture
def case(db) -> SupportCase:
    customer = Customer.objects.create(
        key="email:zoe@example.org", email="zoe@example.org", name="Zoë 🚀 Tester"
    )
    return case_create(
        actor=Actor.customer("Zoë 🚀 Tester"),
        subject="Box arrived crushed 📦💥 — colis abîmé",
        channel=SupportCase.Channel.CONTACT_FORM,
        body="Help",
        customer=customer,
    )


def send_reply(case, agent, body, capture):
    with capture(execute=True):
        return case_reply(case=case, actor=Actor.for_agent(agent), body=body)


def test_emoji_subject_mime_encoded(case, agent, django_capture_on_commit_callbacks):
    send_reply(case, agent, "Thanks", django_capture_on_commit_callbacks)

    raw = mail.outbox[0].message().as_bytes()
    header_block = raw.split(b"\n\n")[0]
    subject_lines = header_block.split(b"\nSubject: ")[1].split(b"\nFrom:")[0]
    assert subject_lines.isascii()
    assert b"=?utf-8?" in subject_lines
    assert parse_sent(mail.outbox[0])["Subject"] == (
        f"Re: Box arrived crushed 📦💥 — colis abîmé [{case.reference}]"
    )


def test_reply_markup_escaped_in_html_only(
    case, agent, django_capture_on_commit_callbacks
):
    send_reply(case, agent, XSS, django_capture_on_commit_callbacks)

    sent = parse_sent(mail.outbox[0])
    text = sent.get_body(("plain",)).get_content()
    html = sent.get_body(("html",)).get_content()
    assert XSS in text
    assert "<script>" not in html
    assert (
        "&lt;/td&gt;&lt;script&gt;alert(document.cookie)&lt;/script&gt; &amp; " in html
    )


def test_reply_quote_marker_above_text(case, agent, django_capture_on_commit_callbacks):
    send_reply(
        case, agent, "Your refund is approved.", django_capture_on_commit_callbacks
    )

    text = parse_sent(mail.outbox[0]).get_body(("plain",)).get_content()
    assert text.startswith("##- Please type your reply above this line -##")
    assert "Your refund is approved." in text
    assert f"Case {case.reference}." in text


def test_case_without_address_sends_nothing(agent, django_capture_on_commit_callbacks):
    case = case_create(
        actor=Actor.customer("Walk-in"),
        subject="Phone call",
        channel=SupportCase.Channel.AGENT,
        body="Called about delivery",
    )

    message = send_reply(case, agent, "Noted.", django_capture_on_commit_callbacks)

    assert message.kind == CaseMessage.Kind.REPLY
    assert OutboundEmail.objects.count() == 0
    assert mail.outbox == []


def test_note_is_never_emailed(case, agent, django_capture_on_commit_callbacks):
    from cases.services import case_add_note

    with django_capture_on_commit_callbacks(execute=True):
        case_add_note(case=case, actor=Actor.for_agent(agent), body="Internal only")

    assert OutboundEmail.objects.count() == 0
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_reply_saved_when_mail_server_down(case, agent, agent_client, settings):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 8599, "timeout": 2},
        }
    }

    response = agent_client.post(
        reverse("cases:reply", args=[case.reference]),
        {"body": "Sent while SMTP is down", "version": case.version},
    )

    assert response.status_code == 302
    message = case.messages.get(kind=CaseMessage.Kind.REPLY)
    outbound = OutboundEmail.objects.get(case_message=message)
    assert outbound.status == OutboundEmail.Status.QUEUED
    assert outbound.last_error == "ConnectionRefusedError"
    page = agent_client.get(reverse("cases:detail", args=[case.reference]))
    assert "Emailed to zoe@example.org: queued" in page.content.decode()


def test_admin_retries_failed_email(case, agent, client, supervisor):
    message = case_reply(case=case, actor=Actor.for_agent(agent), body="Retry me")
    outbound = OutboundEmail.objects.get(case_message=message)
    outbound.status = OutboundEmail.Status.FAILED
    outbound.attempts = 6
    outbound.save()
    client.force_login(supervisor.user)

    response = client.post(
        reverse("admin:cases_outboundemail_changelist"),
        {"action": "retry_now", "_selected_action": [outbound.pk]},
    )

    outbound.refresh_from_db()
    assert response.status_code == 302
    assert outbound.status == OutboundEmail.Status.SENT
    assert outbound.attempts == 1
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    "name", ["cases_outboundemail_changelist", "cases_inboundemail_changelist"]
)
def test_admin_email_lists_open(case, agent, client, supervisor, name):
    case_reply(case=case, actor=Actor.for_agent(agent), body="Listed")
    client.force_login(supervisor.user)

    response = client.get(reverse(f"admin:{name}"))

    assert response.status_code == 200
