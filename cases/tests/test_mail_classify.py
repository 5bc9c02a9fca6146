"""Which headers mark an email as a bounce, an auto-reply or our own."""

from __future__ import annotations

import pytest

from cases.mail.classify import MailKind, classify
from cases.mail.parsing import parse_email


def message(*headers: str, sender: str = "Zoë <zoe@example.org>") -> bytes:
    lines = [f"From: {sender}", "To: support@shop.example", "Subject: Hello", *headers]
    return ("\r\n".join(lines) + "\r\n\r\nBody\r\n").encode()


@pytest.mark.parametrize(
    ("raw", "kind", "reason"),
    [
        (message(), MailKind.PERSON, ""),
        (message("Auto-Submitted: no"), MailKind.PERSON, ""),
        (
            message("Auto-Submitted: auto-generated"),
            MailKind.AUTO_REPLY,
            "Auto-Submitted: auto-generated",
        ),
        (
            message("Auto-Submitted: auto-replied; owner-email=zoe@example.org"),
            MailKind.AUTO_REPLY,
            "Auto-Submitted: auto-replied",
        ),
        (message("X-Autorespond: yes"), MailKind.AUTO_REPLY, "X-Autorespond"),
        (message("Precedence: junk"), MailKind.AUTO_REPLY, "Precedence: junk"),
        (message("Precedence: bulk"), MailKind.AUTO_REPLY, "Precedence: bulk"),
        (message("List-Id: <list.example.org>"), MailKind.AUTO_REPLY, "List-Id"),
        (message("Return-Path: <>"), MailKind.BOUNCE, "Empty Return-Path"),
        (
            message("X-Failed-Recipients: zoe@example.org"),
            MailKind.BOUNCE,
            "X-Failed-Recipients",
        ),
        (
            message(
                "Content-Type: multipart/report; report-type=delivery-status; "
                'boundary="b"'
            ),
            MailKind.BOUNCE,
            "Delivery status report",
        ),
        (
            message(sender="postmaster@example.org"),
            MailKind.BOUNCE,
            "Sender postmaster",
        ),
        (
            message(sender="Support <support+c-000001.abc@shop.example>"),
            MailKind.OWN,
            "Sent from the support address",
        ),
        (
            message("Auto-Submitted: auto-replied", sender="SUPPORT@shop.example"),
            MailKind.OWN,
            "Sent from the support address",
        ),
    ],
)
def test_classification(raw, kind, reason, settings):
    settings.SUPPORT_EMAIL = "support@shop.example"

    result = classify(parse_email(raw))

    assert result.kind == kind
    assert result.reason == reason
