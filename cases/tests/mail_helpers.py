"""Helpers for the email channel tests: fixture messages and replies to them."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

from django.utils import timezone

DATA = Path(__file__).parent / "mail_data"


def load_eml(name: str, in_reply_to: str = "") -> bytes:
    """Return the bytes of a fixture message, with its In-Reply-To filled in."""
    raw = (DATA / name).read_bytes()
    return raw.replace(b"{{IN_REPLY_TO}}", in_reply_to.encode("ascii"))


def parse_sent(sent) -> EmailMessage:
    """Parse a message from Django's outbox as a mail program would receive it."""
    return email.message_from_bytes(
        sent.message().as_bytes(), policy=email.policy.default
    )


def customer_reply(
    sent,
    body: str,
    *,
    sender: str = "zoe.tester@example.org",
    message_id: str = "answer-1@example.org",
    subject: str | None = None,
    keep_threading: bool = True,
) -> bytes:
    """Build the customer's reply to a sent email, as a mail program would.

    The reply quotes the sent text below an "On ... wrote:" line. Without
    ``keep_threading`` it carries no In-Reply-To or References, as some
    webmail forms do.
    """
    original = parse_sent(sent)
    reply = EmailMessage(policy=email.policy.SMTP)
    reply["From"] = f"Zoë Tester <{sender}>"
    reply["To"] = original["Reply-To"] or original["From"]
    reply["Subject"] = subject if subject is not None else f"Re: {original['Subject']}"
    reply["Date"] = "Wed, 11 Mar 2026 08:00:00 +0100"
    reply["Message-ID"] = f"<{message_id}>"
    if keep_threading:
        reply["In-Reply-To"] = original["Message-ID"]
        reply["References"] = (
            f"{original['References'] or ''} {original['Message-ID']}".strip()
        )
    quoted = "\n".join(
        f"> {line}" for line in original.get_body(("plain",)).get_content().splitlines()
    )
    reply.set_content(f"{body}\n\nOn Tue, 10 Mar 2026, Support wrote:\n{quoted}\n")
    return reply.as_bytes()


def import_order(number: str, email_address: str, *, customer_name: str = "") -> None:
    """Import one paid order of one 20.00 item through the real importer."""
    from conftest import EXPORT_HEADER, export_row, import_export

    # Two days ago, so that the order is inside every return window.
    placed = (timezone.now() - timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S +0000")
    row = export_row(
        name=number,
        email=email_address,
        financial_status="paid",
        paid_at=placed,
        currency="USD",
        subtotal="20.00",
        shipping="0.00",
        taxes="0.00",
        total="20.00",
        created_at=placed,
        lineitem_quantity="1",
        lineitem_name="Vase",
        lineitem_price="20.00",
        billing_name=customer_name,
    )
    import_export(f"{EXPORT_HEADER}\n{row}\n")
