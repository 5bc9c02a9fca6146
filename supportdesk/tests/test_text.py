"""One-line text from people: line breaks and bidi controls, at every entry."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.mail.inbound import inbound_email_receive
from cases.models import SupportCase
from cases.shopify_export import ExportInvalid
from refunds.forms import OrderLookupForm
from refunds.tests.factories import make_order
from supportdesk.tests.api_support import client_for
from supportdesk.text import NotOneLine, clean_single_line

RLO, PDF, RLI, PDI = "\u202e", "\u202c", "\u2067", "\u2069"


@pytest.mark.parametrize(
    "text",
    [
        "طلب استرداد للطلب",
        "בקשה להחזר כספי",
        "Order #1001 – طلب استرداد",
        "Zoë 🚀 Tester",
    ],
)
def test_right_to_left_text_is_kept(text):
    assert clean_single_line(text, field="subject") == text


def test_bidi_controls_are_dropped():
    spoof = f"{RLO}gnp.exe{PDF} and {RLI}שלום{PDI}"

    assert clean_single_line(spoof, field="subject") == "gnp.exe and שלום"


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r", "\u2028", "\x85"])
def test_line_break_raises_naming_field(newline):
    with pytest.raises(NotOneLine) as error:
        clean_single_line(f"Eve{newline}Bcc: x@example.test", field="name")

    assert error.value.message == "The name must be on one line."
    assert error.value.field == "name"


def test_line_break_folds_without_field():
    assert clean_single_line("Eve\r\nBcc: x@example.test") == "Eve Bcc: x@example.test"


def test_value_is_stripped_and_nfc():
    assert clean_single_line("  Zoe\u0308  ", field="name") == "Zoë"


@pytest.mark.django_db
def test_contact_form_rejects_name_on_two_lines(client):
    response = client.post(
        reverse("mail:contact"),
        {
            "name": "Eve\r\nBcc: x@example.test",
            "email": "eve@example.org",
            "subject": f"{RLO}txt.exe",
            "message": "Hello",
            "submission_key": "k1",
        },
    )

    assert response.status_code == 422
    assert response.context["form"].errors["name"] == ["The name must be on one line."]
    assert SupportCase.objects.count() == 0


@pytest.mark.django_db
def test_contact_form_stores_subject_without_bidi(client):
    client.post(
        reverse("mail:contact"),
        {
            "name": "נועה כהן",
            "email": "noa@example.org",
            "subject": f"{RLO}txt.exe",
            "message": "Hello",
            "submission_key": "k1",
        },
    )

    case = SupportCase.objects.get()
    assert case.subject == "txt.exe"
    assert case.customer.name == "נועה כהן"


def test_order_lookup_rejects_number_on_two_lines():
    form = OrderLookupForm({"order_number": "#1001\n#1002", "email": "a@example.org"})

    assert form.errors["order_number"] == ["The order number must be on one line."]


@pytest.mark.django_db
def test_api_rejects_subject_on_two_lines(agent):
    response = client_for(agent.user).post(
        "/api/v1/cases/",
        {"subject": "Hi\r\nBcc: x@example.test", "author_name": "Eve"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["invalid_params"] == [
        {"name": "subject", "reason": "The subject must be on one line."}
    ]


@pytest.mark.django_db
def test_api_drops_bidi_from_author_name(agent):
    response = client_for(agent.user).post(
        "/api/v1/cases/",
        {"subject": "مرحبا", "body": "שלום", "author_name": f"{RLO}evE"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    case = SupportCase.objects.get()
    assert case.subject == "مرحبا"
    assert case.messages.get().author_name == "evE"


@pytest.mark.django_db
def test_inbound_mail_folds_subject_and_drops_bidi(django_capture_on_commit_callbacks):
    # The name is U+202E then "evE". The subject decodes to "Hi", CR LF, "Bcc…".
    raw = (
        b"From: =?utf-8?b?4oCuZXZF?= <eve@example.org>\r\n"
        b"To: support@shop.example\r\n"
        b"Subject: =?utf-8?q?Hi=0D=0ABcc=3A_x=40example=2Etest?=\r\n"
        b"Message-ID: <bidi-1@example.org>\r\n"
        b"Date: Tue, 10 Mar 2026 09:14:03 +0100\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"\r\n"
        b"Hello\r\n"
    )

    with django_capture_on_commit_callbacks(execute=True):
        result = inbound_email_receive(raw=raw, source="http")

    assert result.case.subject == "Hi Bcc: x@example.test"
    assert result.case.customer.name == "evE"


def test_tab_and_control_characters_are_cleaned():
    assert clean_single_line("tab\tand\x1bESC\x07bell\x7f\x9b") == "tab andESCbell"


def test_only_controls_clean_to_empty():
    assert clean_single_line(f"{RLO}\x1b\t", field="subject") == ""


@pytest.mark.django_db
@pytest.mark.parametrize("subject", [RLO, f"{RLI}{PDI}", "\x1b\x07", "\t"])
def test_api_rejects_subject_of_only_controls(agent, subject):
    response = client_for(agent.user).post(
        "/api/v1/cases/", {"subject": subject, "body": "b"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["invalid_params"] == [
        {"name": "subject", "reason": "This field may not be blank."}
    ]
    assert not SupportCase.objects.exists()


@pytest.mark.django_db
def test_api_strips_control_characters_from_subject(agent):
    response = client_for(agent.user).post(
        "/api/v1/cases/",
        {"subject": "tab\tand\x1bESC\x07bell", "body": "b"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert SupportCase.objects.get().subject == "tab andESCbell"


@pytest.mark.django_db
def test_contact_form_rejects_name_of_only_controls(client):
    response = client.post(
        reverse("mail:contact"),
        {
            "name": f"{RLO}\x1b",
            "email": "eve@example.org",
            "subject": "Hello",
            "message": "Hello",
            "submission_key": "k1",
        },
    )

    assert response.status_code == 422
    assert response.context["form"].errors["name"] == ["Enter your name."]
    assert not SupportCase.objects.exists()


@pytest.mark.django_db
def test_importer_stores_names_on_one_line():
    order = make_order(
        customer_name=f"Eve\r\nBcc: victim@example.test {RLO}evil\x1b",
        lines=[("Sticker\tBig\x07", "10.00", 1, "STK-1\x1b")],
    )

    assert order.customer_name == "Eve Bcc: victim@example.test evil"
    assert order.customer.name == "Eve Bcc: victim@example.test evil"
    line = order.lines.get()
    assert line.name == "Sticker Big"
    assert line.sku == "STK-1"


@pytest.mark.django_db
def test_importer_rejects_line_name_of_only_controls():
    with pytest.raises(ExportInvalid) as error:
        make_order(lines=[(f"{RLO}\x1b", "10.00", 1, "STK-1")])

    messages = [row.message for row in error.value.errors]
    assert "The line item has no name." in messages
