"""Receiving email: threading, automatic mail, attachments and idempotency."""

from __future__ import annotations

import email
import email.policy

import pytest
from django.core import mail
from django.urls import reverse

from cases.audit import Actor
from cases.mail.inbound import MessageTooLarge, inbound_email_receive
from cases.mail.models import EmailAttachment, InboundEmail, OutboundEmail
from cases.mail.outbound import case_address_tag
from cases.mail.parsing import MalformedEmail
from cases.models import CaseMessage, Customer, SupportCase
from cases.services import case_change_status, case_reply
from cases.tests.mail_helpers import (
    customer_reply,
    import_order,
    load_eml,
    parse_sent,
)

FIRST_ID = "7c1e2f0a-3b4d-4e5f-9a8b-1c2d3e4f5a6b@example.org"
SUBJECT = "Remboursement demandé — colis abîmé, commande #1032 📦"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def receive(django_capture_on_commit_callbacks):
    """Receive raw bytes over HTTP and run the after-commit deliveries."""

    def run(raw: bytes, source: str = InboundEmail.Source.HTTP):
        with django_capture_on_commit_callbacks(execute=True):
            return inbound_email_receive(raw=raw, source=source)

    return run


@pytest.fixture
def reply(django_capture_on_commit_callbacks):
    def run(
        case: SupportCase, agent, body: str = "We are sorry. A refund is on its way."
    ):
        with django_capture_on_commit_callbacks(execute=True):
            return case_reply(case=case, actor=Actor.for_agent(agent), body=body)

    return run


def test_multipart_email_opens_case_with_exact_text(receive):
    result = receive(load_eml("new-question-multipart.eml"))

    case = result.case
    assert result.inbound.disposition == InboundEmail.Disposition.OPENED
    assert case.channel == SupportCase.Channel.EMAIL
    assert case.subject == SUBJECT
    assert case.customer.email == "zoe.tester@example.org"
    assert case.customer.name == "Zoë 🚀 Tester"
    message = case.messages.get()
    assert message.kind == CaseMessage.Kind.CUSTOMER
    assert "arrivé écrasé 📦💥" in message.body
    assert "Ma famille 👨\u200d👩\u200d👧 l'attendait" in message.body
    assert "<p>" not in message.body
    assert result.inbound.sent_at.isoformat() == "2026-03-10T09:14:03+01:00"


def test_attachments_stored_with_names_and_types(receive):
    result = receive(load_eml("new-question-multipart.eml"))

    files = list(EmailAttachment.objects.filter(case=result.case))
    assert [f.filename for f in files] == ["colis abîmé.jpg", "facture-1032.pdf"]
    assert [f.content_type for f in files] == ["image/jpeg", "application/pdf"]
    photo, invoice = files
    assert photo.file.read()[:3] == b"\xff\xd8\xff"
    assert invoice.file.read().startswith(b"%PDF-1.4")
    assert invoice.size_bytes == invoice.file.size
    assert photo.case_message == result.inbound.case_message
    assert photo.file.name is not None
    assert "abîmé" not in photo.file.name


def test_new_case_gets_threaded_receipt(receive):
    result = receive(load_eml("new-question-multipart.eml"))

    assert len(mail.outbox) == 1
    receipt = parse_sent(mail.outbox[0])
    raw = mail.outbox[0].message().as_bytes()
    assert receipt["To"].addresses[0].addr_spec == "zoe.tester@example.org"
    assert receipt["In-Reply-To"] == f"<{FIRST_ID}>"
    assert receipt["Auto-Submitted"] == "auto-replied"
    assert receipt["Subject"] == f"Re: {SUBJECT} [{result.case.reference}]"
    raw_subject = raw.split(b"\nSubject: ")[1].split(b"\nFrom:")[0]
    assert raw_subject.isascii()
    assert b"=?utf-8?" in raw_subject
    stored = OutboundEmail.objects.get(kind=OutboundEmail.Kind.RECEIPT)
    assert receipt["Message-ID"] == f"<{stored.message_id}>"
    assert stored.status == OutboundEmail.Status.SENT


def test_order_in_subject_linked_only_for_its_owner(receive):
    import_order("#1032", "zoe.tester@example.org")
    owned = receive(load_eml("new-question-multipart.eml"))
    stranger = receive(
        load_eml("new-question-multipart.eml")
        .replace(b"zoe.tester@example.org", b"someone.else@example.org")
        .replace(FIRST_ID.encode(), b"other-id@example.org")
    )

    assert owned.case.order.number == "#1032"
    assert stranger.case.order is None


def test_reply_to_own_message_threads(receive):
    first = receive(load_eml("new-question-multipart.eml"))

    second = receive(load_eml("follow-up-same-thread.eml"))

    assert second.case == first.case
    assert second.inbound.disposition == InboundEmail.Disposition.ADDED
    latest = first.case.messages.order_by("-id").first()
    assert latest.body == "Voici aussi le numéro de suivi : 1Z999AA10123456784."
    assert len(mail.outbox) == 1  # only the first email's receipt


def test_agent_reply_carries_threading_headers(receive, reply, agent):
    case = receive(load_eml("new-question-multipart.eml")).case
    mail.outbox.clear()

    message = reply(case, agent)

    sent = parse_sent(mail.outbox[0])
    outbound = OutboundEmail.objects.get(case_message=message)
    receipt = OutboundEmail.objects.get(kind=OutboundEmail.Kind.RECEIPT)
    assert sent["Message-ID"] == f"<{outbound.message_id}>"
    assert sent["In-Reply-To"] == f"<{FIRST_ID}>"
    assert sent["References"].split() == [f"<{FIRST_ID}>", f"<{receipt.message_id}>"]
    assert sent["Auto-Submitted"] is None
    assert f"[{case.reference}]" in sent["Subject"]
    assert "A refund is on its way." in sent.get_body(("plain",)).get_content()


def test_customer_reply_to_reply_reopens_solved_case(receive, reply, agent):
    case = receive(load_eml("new-question-multipart.eml")).case
    reply(case, agent)
    case_change_status(case=case, actor=Actor.for_agent(agent), status="solved")
    sent_reply = next(m for m in mail.outbox if "refund is on its way" in m.body)

    result = receive(customer_reply(sent_reply, "It has not arrived yet."))

    case.refresh_from_db()
    assert result.case == case
    assert case.status == SupportCase.Status.OPEN
    assert case.messages.order_by("-id").first().body == "It has not arrived yet."


def test_subject_reference_needs_known_sender(receive, reply, agent):
    case = receive(load_eml("new-question-multipart.eml")).case
    reply(case, agent)
    sent_reply = mail.outbox[-1]
    subject = f"About my parcel [{case.reference}]"

    known = receive(
        customer_reply(sent_reply, "Any news?", subject=subject, keep_threading=False)
    )
    stranger = receive(
        customer_reply(
            sent_reply,
            "Let me in.",
            sender="intruder@example.net",
            message_id="intruder@example.net",
            subject=subject,
            keep_threading=False,
        )
    )

    assert known.case == case
    assert known.inbound.disposition == InboundEmail.Disposition.ADDED
    assert stranger.case != case
    assert stranger.inbound.disposition == InboundEmail.Disposition.OPENED
    assert not case.messages.filter(body__contains="Let me in").exists()


def test_signed_plus_address_threads(receive, reply, agent, settings):
    settings.SUPPORT_EMAIL_PLUS_ADDRESSING = True
    case = receive(load_eml("new-question-multipart.eml")).case
    reply(case, agent)
    sent = parse_sent(mail.outbox[-1])
    assert sent["Reply-To"] == f"support+{case_address_tag(case.pk)}@shop.example"

    reply_bytes = customer_reply(
        mail.outbox[-1], "Plus address.", subject="Hello", keep_threading=False
    )
    forged = reply_bytes.replace(
        case_address_tag(case.pk).encode(),
        f"c-{case.pk:06d}.000000000000".encode(),
    ).replace(b"answer-1@example.org", b"forged@example.org")
    matched = receive(reply_bytes)
    unmatched = receive(forged)

    assert matched.case == case
    assert unmatched.case != case


def test_reply_to_closed_case_opens_follow_up(receive, reply, agent):
    case = receive(load_eml("new-question-multipart.eml")).case
    reply(case, agent)
    actor = Actor.for_agent(agent)
    case_change_status(case=case, actor=actor, status="solved")
    case_change_status(case=case, actor=actor, status="closed")
    sent_reply = next(m for m in mail.outbox if "refund is on its way" in m.body)

    result = receive(customer_reply(sent_reply, "One more question."))

    case.refresh_from_db()
    assert result.inbound.disposition == InboundEmail.Disposition.FOLLOW_UP
    assert result.case != case
    assert result.case.customer == case.customer
    assert result.case.messages.filter(
        kind=CaseMessage.Kind.NOTE, body__contains=case.reference
    ).exists()
    assert case.status == SupportCase.Status.CLOSED
    assert not case.messages.filter(body="One more question.").exists()


def test_auto_reply_leaves_solved_case_alone(receive, reply, agent):
    case = receive(load_eml("new-question-multipart.eml")).case
    message = reply(case, agent)
    case = case_change_status(case=case, actor=Actor.for_agent(agent), status="solved")
    reply_id = OutboundEmail.objects.get(case_message=message).message_id
    sent_before = len(mail.outbox)

    result = receive(load_eml("auto-reply-out-of-office.eml", in_reply_to=reply_id))

    case.refresh_from_db()
    assert result.inbound.disposition == InboundEmail.Disposition.AUTO_REPLY
    assert result.inbound.reason == "Auto-Submitted: auto-replied"
    assert result.case == case
    assert case.status == SupportCase.Status.SOLVED
    assert len(mail.outbox) == sent_before
    note = result.inbound.case_message
    assert note.kind == CaseMessage.Kind.NOTE
    assert "out of the office until Monday 16 March" in note.body


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("vacation-x-autoreply.eml", "X-Autoreply"),
        ("newsletter-list.eml", "Precedence: list"),
    ],
)
def test_unthreaded_automatic_mail_opens_no_case(receive, fixture, reason):
    result = receive(load_eml(fixture))

    assert result.inbound.disposition == InboundEmail.Disposition.AUTO_REPLY
    assert result.inbound.reason == reason
    assert result.case is None
    assert SupportCase.objects.count() == 0
    assert mail.outbox == []


def test_vacation_subject_in_latin1_decoded(receive):
    result = receive(load_eml("vacation-x-autoreply.eml"))

    assert result.inbound.subject == "Réponse automatique : absent du bureau"


def test_bounce_marks_reply_bounced(receive, reply, agent):
    case = receive(load_eml("new-question-multipart.eml")).case
    message = reply(case, agent)
    outbound = OutboundEmail.objects.get(case_message=message)
    version = SupportCase.objects.get(pk=case.pk).version
    sent_before = len(mail.outbox)

    result = receive(load_eml("bounce-dsn.eml", in_reply_to=outbound.message_id))

    outbound.refresh_from_db()
    case.refresh_from_db()
    assert result.inbound.disposition == InboundEmail.Disposition.BOUNCE
    assert result.inbound.reason == "Sender MAILER-DAEMON"
    assert outbound.status == OutboundEmail.Status.BOUNCED
    assert result.case == case
    assert case.status == SupportCase.Status.OPEN
    assert case.version == version
    assert "may not have received it" in result.inbound.case_message.body
    assert len(mail.outbox) == sent_before


def test_own_email_coming_back_is_dropped(receive, reply, agent):
    case = receive(load_eml("new-question-multipart.eml")).case
    reply(case, agent)
    echo = mail.outbox[-1].message().as_bytes()
    inbound_before = InboundEmail.objects.count()
    sent_before = len(mail.outbox)

    result = receive(echo)

    assert result.dropped
    assert InboundEmail.objects.count() == inbound_before
    assert SupportCase.objects.count() == 1
    assert len(mail.outbox) == sent_before


@pytest.mark.parametrize(
    "fixture", ["new-question-multipart.eml", "latin1-no-message-id.eml"]
)
def test_same_message_twice_stored_once(receive, fixture):
    first = receive(load_eml(fixture))

    second = receive(load_eml(fixture))

    assert not first.duplicate
    assert second.duplicate
    assert second.inbound == first.inbound
    assert InboundEmail.objects.count() == 1
    assert SupportCase.objects.count() == 1
    assert CaseMessage.objects.count() == 1
    assert len(mail.outbox) == 1


def test_message_without_id_gets_stable_synthetic_id(receive):
    result = receive(load_eml("latin1-no-message-id.eml"))

    assert result.inbound.message_id.startswith("sha256-")
    assert result.case.subject == "Facture demandée"
    assert result.case.customer.name == "René Müller"
    assert "Je n'ai pas reçu la facture" in result.case.messages.get().body


def test_raw_utf8_header_read(receive):
    raw = (
        "From: Zoë Tester <zoe.raw@example.org>\r\n"
        "To: support@shop.example\r\n"
        "Subject: Colis abîmé 📦 (UTF-8 brut)\r\n"
        "Message-ID: <raw-utf8@example.org>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
        "Le carton était mouillé.\r\n"
    ).encode()

    result = receive(raw)

    assert result.case.subject == "Colis abîmé 📦 (UTF-8 brut)"
    assert result.case.customer.name == "Zoë Tester"


def test_html_only_email_stored_as_text(receive):
    result = receive(load_eml("html-only-script.eml"))

    body = result.case.messages.get().body
    assert "Hello & good morning," in body
    assert "onerror" not in body
    assert "alert(document.cookie)" not in body
    assert '<script>alert("typed")</script>' in body  # typed text, kept as text


def test_customer_markup_escaped_on_agent_pages(receive, agent_client):
    case = receive(load_eml("html-only-script.eml")).case

    page = agent_client.get(reverse("cases:detail", args=[case.reference]))
    queue = agent_client.get(reverse("cases:queue"))

    for response in (page, queue):
        html = response.content.decode()
        assert response.status_code == 200
        assert "<script>alert(document.cookie)</script>" not in html
        assert "&lt;/td&gt;&lt;script&gt;alert(document.cookie)" in html
    html = page.content.decode()
    assert "<img src=x onerror=alert(1)>" not in html
    assert "Zoe &lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;alert(&quot;typed&quot;)&lt;/script&gt;" in html


def test_oversized_attachment_skipped_and_noted(receive, settings):
    settings.MAIL_MAX_ATTACHMENT_BYTES = 200

    result = receive(load_eml("new-question-multipart.eml"))

    assert [a.filename for a in result.case.email_attachments.all()] == [
        "facture-1032.pdf"
    ]
    assert result.skipped_attachments == [
        "colis abîmé.jpg (332 bytes) was not stored: files larger than 200 "
        "bytes are refused."
    ]
    assert "[colis abîmé.jpg (332 bytes) was not stored" in (
        result.case.messages.get().body
    )


def test_long_body_cut_with_full_text_attached(receive):
    text = "Ceci est une très longue lettre. " * 1000
    raw = (
        "From: Long Writer <long@example.org>\r\nTo: support@shop.example\r\n"
        "Subject: Long\r\nMessage-ID: <long@example.org>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text
    ).encode()

    result = receive(raw)

    body = result.case.messages.get().body
    assert len(body) <= 20_000
    assert body.endswith("Its full text is attached as message.txt.]")
    attachment = result.case.email_attachments.get()
    assert attachment.filename == "message.txt"
    assert attachment.file.read().decode() == text


def test_email_without_text_but_files_still_opens_case(receive):
    raw = load_eml("new-question-multipart.eml")
    head, _, _ = raw.partition(
        b"--------------0QpRkX5vT2nYw8aL3mJcD7sF\r\nContent-Type: multipart/alternative"
    )
    attachment_part = raw[
        raw.index(
            b"--------------0QpRkX5vT2nYw8aL3mJcD7sF\r\nContent-Type: image/jpeg"
        ) :
    ]

    result = receive(head + attachment_part)

    assert result.case.messages.get().body == "(The email has no text; see its files.)"
    assert result.case.email_attachments.count() == 2


@pytest.mark.parametrize(
    "raw",
    [b"", b"just words, no header section\n", b"Subject: no sender\r\n\r\nHello\r\n"],
)
def test_malformed_message_rejected(raw):
    with pytest.raises(MalformedEmail):
        inbound_email_receive(raw=raw, source=InboundEmail.Source.HTTP)

    assert InboundEmail.objects.count() == 0


def test_oversized_message_rejected(settings):
    settings.MAIL_MAX_MESSAGE_BYTES = 1000

    with pytest.raises(MessageTooLarge):
        inbound_email_receive(
            raw=load_eml("new-question-multipart.eml"),
            source=InboundEmail.Source.HTTP,
        )

    assert InboundEmail.objects.count() == 0


def test_receipts_limited_per_sender(receive):
    for number in range(5):
        receive(
            load_eml("latin1-no-message-id.eml").replace(
                b"Subject: ",
                f"Message-ID: <n{number}@example.net>\r\nSubject: ".encode(),
            )
        )

    assert SupportCase.objects.count() == 5
    assert len(mail.outbox) == 3


def test_existing_customer_reused(receive):
    Customer.objects.create(
        key="email:zoe.tester@example.org", email="zoe.tester@example.org"
    )

    result = receive(load_eml("new-question-multipart.eml"))

    assert Customer.objects.count() == 1
    assert result.case.customer.name == "Zoë 🚀 Tester"


def test_attachment_download_for_agents_only(
    receive, agent_client, client, make_agent, general_team
):
    case = receive(load_eml("new-question-multipart.eml")).case
    case.team = general_team
    case.save()
    invoice = case.email_attachments.get(filename="facture-1032.pdf")
    url = reverse("mail:attachment", args=[case.reference, invoice.pk])

    response = agent_client.get(url)
    client.force_login(make_agent("Other Team Agent").user)
    outsider = client.get(url)
    client.logout()
    anonymous = client.get(url)

    assert response.status_code == 404  # the agent is not in the General team
    assert outsider.status_code == 404
    assert anonymous.status_code == 302


def test_attachment_download_is_a_download(receive, agent_client):
    case = receive(load_eml("new-question-multipart.eml")).case
    invoice = case.email_attachments.get(filename="facture-1032.pdf")

    response = agent_client.get(
        reverse("mail:attachment", args=[case.reference, invoice.pk])
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="facture-1032.pdf"'
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert b"".join(response.streaming_content).startswith(b"%PDF-1.4")


def test_case_page_lists_attachments_and_email_status(
    receive, reply, agent, agent_client
):
    case = receive(load_eml("new-question-multipart.eml")).case
    reply(case, agent)

    html = agent_client.get(
        reverse("cases:detail", args=[case.reference])
    ).content.decode()

    invoice = case.email_attachments.get(filename="facture-1032.pdf")
    assert reverse("mail:attachment", args=[case.reference, invoice.pk]) in html
    assert "colis abîmé.jpg" in html
    assert "Emailed to zoe.tester@example.org: sent" in html


def test_parsed_fixture_is_real_multipart():
    message = email.message_from_bytes(
        load_eml("new-question-multipart.eml"), policy=email.policy.default
    )

    assert message.get_content_type() == "multipart/mixed"
    assert [p.get_content_type() for p in message.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "image/jpeg",
        "application/pdf",
    ]
