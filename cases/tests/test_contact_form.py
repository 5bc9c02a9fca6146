"""The public contact form."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from cases.mail.models import OutboundEmail
from cases.models import CaseMessage, SupportCase
from cases.tests.mail_helpers import import_order, parse_sent

pytestmark = pytest.mark.django_db

VALID = {
    "name": "Zoë 🚀 Tester",
    "email": "zoe.contact@example.org",
    "order_number": "",
    "subject": "Remboursement demandé — colis abîmé, commande #1032",
    "message": "Box arrived crushed 📦💥 and the family 👨‍👩‍👧 is sad.",
}


def submit(client, capture, **changes):
    """Post the contact form as a browser does, with the key of a fresh form."""
    page = client.get(reverse("mail:contact"))
    key = page.context["form"].initial["submission_key"]
    with capture(execute=True):
        return client.post(
            reverse("mail:contact"), {"submission_key": key, **VALID, **changes}
        )


def test_form_page_labels_every_field(client):
    html = client.get(reverse("mail:contact")).content.decode()

    for field, label in [
        ("name", "Your name"),
        ("email", "Email address"),
        ("order_number", "Order number"),
        ("subject", "Subject"),
        ("message", "Your message"),
    ]:
        assert f'<label for="id_{field}">{label}' in html
    assert reverse("refunds:start") in html


def test_submission_opens_case_exactly(client, django_capture_on_commit_callbacks):
    response = submit(client, django_capture_on_commit_callbacks)

    case = SupportCase.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("mail:contact-sent")
    assert case.channel == SupportCase.Channel.CONTACT_FORM
    assert case.subject == VALID["subject"]
    assert case.customer.name == VALID["name"]
    assert case.customer.email == VALID["email"]
    message = case.messages.get()
    assert message.body == VALID["message"]
    assert message.kind == CaseMessage.Kind.CUSTOMER
    sent_page = client.get(response["Location"]).content.decode()
    assert case.reference in sent_page


def test_same_form_sent_twice_opens_one_case(
    client, django_capture_on_commit_callbacks
):
    page = client.get(reverse("mail:contact"))
    data = {**VALID, "submission_key": page.context["form"].initial["submission_key"]}

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(reverse("mail:contact"), data)
        second = client.post(reverse("mail:contact"), data)

    case = SupportCase.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == reverse("mail:contact-sent")
    assert case.reference in client.get(second["Location"]).content.decode()
    assert case.messages.count() == 1
    assert len(mail.outbox) == 1
    assert 'name="submission_key"' in page.content.decode()


def test_two_forms_open_two_cases(client, django_capture_on_commit_callbacks):
    submit(client, django_capture_on_commit_callbacks)
    submit(client, django_capture_on_commit_callbacks)

    assert SupportCase.objects.count() == 2


def test_form_without_key_opens_no_case(client):
    response = client.post(reverse("mail:contact"), VALID)

    assert response.status_code == 422
    assert "This page is out of date." in response.content.decode()
    assert SupportCase.objects.count() == 0


def test_submission_sends_threadable_receipt(
    client, django_capture_on_commit_callbacks
):
    submit(client, django_capture_on_commit_callbacks)

    case = SupportCase.objects.get()
    receipt = parse_sent(mail.outbox[0])
    stored = OutboundEmail.objects.get(case=case)
    assert receipt["To"].addresses[0].addr_spec == VALID["email"]
    assert receipt["Message-ID"] == f"<{stored.message_id}>"
    assert receipt["Subject"] == f"Re: {VALID['subject']} [{case.reference}]"
    assert receipt["Auto-Submitted"] == "auto-replied"


def test_order_linked_only_with_matching_email(
    client, django_capture_on_commit_callbacks
):
    import_order("#1032", "zoe.contact@example.org")
    import_order("#2000", "someone.else@example.org")

    submit(client, django_capture_on_commit_callbacks, order_number="1032")
    submit(client, django_capture_on_commit_callbacks, order_number="#2000")

    first, second = SupportCase.objects.order_by("id")
    assert first.order.number == "#1032"
    assert second.order is None


def test_unknown_order_number_kept_for_agents(
    client, agent_client, django_capture_on_commit_callbacks
):
    submit(client, django_capture_on_commit_callbacks, order_number="999999")

    case = SupportCase.objects.get()
    note = case.messages.get(kind=CaseMessage.Kind.NOTE)
    assert case.order is None
    assert note.body == (
        "The customer gave the order number 999999, but no order with that "
        "number has the address zoe.contact@example.org."
    )
    assert (
        "999999"
        in agent_client.get(
            reverse("cases:detail", args=[case.reference])
        ).content.decode()
    )
    assert "999999" not in mail.outbox[0].body


def test_matched_order_number_adds_no_note(client, django_capture_on_commit_callbacks):
    import_order("#1032", "zoe.contact@example.org")

    submit(client, django_capture_on_commit_callbacks, order_number="1032")

    assert not CaseMessage.objects.filter(kind=CaseMessage.Kind.NOTE).exists()


def test_invalid_form_errors_linked_to_fields(client):
    response = client.post(
        reverse("mail:contact"), {**VALID, "email": "not-an-address", "message": ""}
    )

    html = response.content.decode()
    assert response.status_code == 422
    assert 'aria-describedby="id_email_helptext id_email_error"' in html
    assert 'id="id_email_error"' in html
    assert "Enter an email address in the form name@example.com." in html
    assert 'id="id_message_error"' in html
    assert 'aria-invalid="true"' in html
    assert SupportCase.objects.count() == 0


def test_customer_markup_escaped_everywhere(
    client, agent_client, django_capture_on_commit_callbacks
):
    submit(
        client,
        django_capture_on_commit_callbacks,
        name="Zoë <img src=x onerror=alert(1)>",
        subject="</td><script>alert(document.cookie)</script>",
    )
    case = SupportCase.objects.get()

    pages = [
        agent_client.get(reverse("cases:queue")),
        agent_client.get(reverse("cases:detail", args=[case.reference])),
    ]

    for page in pages:
        html = page.content.decode()
        assert "<script>alert(document.cookie)</script>" not in html
        assert "&lt;script&gt;alert(document.cookie)&lt;/script&gt;" in html
    assert "<img src=x" not in pages[1].content.decode()
    receipt_html = parse_sent(mail.outbox[0]).get_body(("html",)).get_content()
    assert "<img src=x" not in receipt_html
    assert "Zoë &lt;img src=x onerror=alert(1)&gt;" in receipt_html


def test_csrf_token_required():
    client = Client(enforce_csrf_checks=True)

    response = client.post(reverse("mail:contact"), VALID)

    assert response.status_code == 403
    assert SupportCase.objects.count() == 0


def test_submissions_rate_limited_per_email(client, django_capture_on_commit_callbacks):
    for _ in range(5):
        submit(client, django_capture_on_commit_callbacks)

    response = submit(client, django_capture_on_commit_callbacks)

    assert response.status_code == 429
    assert "Too many messages" in response.content.decode()
    assert SupportCase.objects.count() == 5


def test_sent_page_without_submission_redirects(client):
    response = client.get(reverse("mail:contact-sent"))

    assert response.status_code == 302
    assert response["Location"] == reverse("mail:contact")


def test_repeated_submission_skips_rate_limit(
    client, django_capture_on_commit_callbacks
):
    page = client.get(reverse("mail:contact"))
    form = {"submission_key": page.context["form"].initial["submission_key"], **VALID}

    with django_capture_on_commit_callbacks(execute=True):
        responses = [client.post(reverse("mail:contact"), form) for _ in range(8)]

    assert [r.status_code for r in responses] == [302] * 8
    assert SupportCase.objects.count() == 1


def test_invalid_submissions_skip_rate_limit(
    client, django_capture_on_commit_callbacks
):
    for _ in range(6):
        invalid = submit(client, django_capture_on_commit_callbacks, name="Eve\nBcc")
        assert invalid.status_code == 422

    response = submit(client, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert SupportCase.objects.count() == 1
