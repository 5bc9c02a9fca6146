"""Tell a person's email from automatic mail: auto-replies, bounces, echoes.

Automatic mail never reopens a case and never gets an answer, which is what
keeps two automatic responders from writing to each other for ever. The
rules follow RFC 3834 (Auto-Submitted), RFC 3464 and RFC 6522 (delivery
status reports) and the headers that common responders add instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import collapse_rfc2231_value
from enum import StrEnum

from django.conf import settings

from cases.mail.parsing import ParsedEmail

BOUNCE_SENDERS = {"mailer-daemon", "postmaster"}
# Precedence values of bulk mail and of responders that predate RFC 3834.
AUTOMATIC_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
# Headers whose presence alone marks a vacation or autoresponder message.
AUTORESPONDER_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autoresponder")
# Senders that do not read replies; a receipt sent there is wasted.
NO_REPLY_LOCAL_PARTS = {"noreply", "no-reply", "no_reply", "donotreply", "do-not-reply"}


class MailKind(StrEnum):
    PERSON = "person"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    OWN = "own"


@dataclass(frozen=True)
class Classification:
    kind: MailKind
    # The header or rule that decided, such as "Auto-Submitted: auto-replied".
    reason: str = ""

    @property
    def is_automatic(self) -> bool:
        return self.kind != MailKind.PERSON


def classify(parsed: ParsedEmail) -> Classification:
    """Classify ``parsed`` as our own echo, a bounce, an auto-reply or a person."""
    if is_own_address(parsed.from_address):
        return Classification(MailKind.OWN, "Sent from the support address")
    bounce = _bounce_reason(parsed)
    if bounce:
        return Classification(MailKind.BOUNCE, bounce)
    automatic = _auto_reply_reason(parsed)
    if automatic:
        return Classification(MailKind.AUTO_REPLY, automatic)
    return Classification(MailKind.PERSON)


def own_addresses() -> set[str]:
    return {
        address.lower()
        for address in (
            settings.SUPPORT_EMAIL,
            settings.DEFAULT_FROM_EMAIL,
            settings.SERVER_EMAIL,
        )
        if address
    }


def is_own_address(address: str) -> bool:
    """Return True for a support address, plus-addressed variants included."""
    local, _, domain = address.lower().partition("@")
    base = f"{local.partition('+')[0]}@{domain}"
    return base in own_addresses()


def is_no_reply_address(address: str) -> bool:
    return address.lower().partition("@")[0] in NO_REPLY_LOCAL_PARTS


def _bounce_reason(parsed: ParsedEmail) -> str:
    local = parsed.from_address.lower().partition("@")[0]
    if local in BOUNCE_SENDERS:
        return f"Sender {local.upper() if local == 'mailer-daemon' else local}"
    return_path = parsed.header("Return-Path").strip()
    if parsed.message.get("Return-Path") is not None and return_path in ("<>", ""):
        return "Empty Return-Path"
    message = parsed.message
    if (
        message.get_content_type() == "multipart/report"
        and collapse_rfc2231_value(message.get_param("report-type") or "").lower()
        == "delivery-status"
    ):
        return "Delivery status report"
    if message.get("X-Failed-Recipients") is not None:
        return "X-Failed-Recipients"
    return ""


def _auto_reply_reason(parsed: ParsedEmail) -> str:
    auto_submitted = parsed.header("Auto-Submitted").strip()
    keyword = auto_submitted.split(";")[0].strip().lower()
    if auto_submitted and keyword != "no":
        return f"Auto-Submitted: {keyword}"
    for name in AUTORESPONDER_HEADERS:
        if parsed.message.get(name) is not None:
            return name
    precedence = parsed.header("Precedence").strip().lower()
    if precedence in AUTOMATIC_PRECEDENCE:
        return f"Precedence: {precedence}"
    if parsed.message.get("List-Id") is not None:
        return "List-Id"
    return ""
