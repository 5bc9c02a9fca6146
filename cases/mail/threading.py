"""Find the case that an incoming email belongs to."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass

from cases.mail.models import InboundEmail, OutboundEmail
from cases.mail.outbound import case_id_from_address_tag
from cases.mail.parsing import ParsedEmail, message_id_of
from cases.models import SupportCase

# A case reference in a subject, as our emails write it: "[C-000123]".
SUBJECT_REFERENCE = re.compile(r"\[C-(\d{1,10})\]", re.IGNORECASE)


@dataclass(frozen=True)
class ThreadMatch:
    case: SupportCase | None
    # "in-reply-to", "references", "reply-address", "subject" or "".
    via: str = ""


def find_case(parsed: ParsedEmail) -> ThreadMatch:
    """Match ``parsed`` to a case, strongest evidence first.

    1. In-Reply-To, then References (newest first), against the Message-IDs
       of the emails we sent and received on cases.
    2. The signed plus address of our Reply-To among the recipients.
    3. A ``[C-000123]`` reference in the subject, but only when the sender is
       the case's customer or wrote to the case before, because anyone can
       type a reference and must not be able to write into someone's case.
    """
    for via, ids in (
        ("in-reply-to", parsed.in_reply_to),
        ("references", list(reversed(parsed.references))),
    ):
        case = _case_by_message_ids(ids)
        if case is not None:
            return ThreadMatch(case, via)
    for address in parsed.recipients:
        local = address.partition("@")[0]
        if "+" in local:
            case_id = case_id_from_address_tag(local.partition("+")[2])
            case = _load(case_id) if case_id else None
            if case is not None:
                return ThreadMatch(case, "reply-address")
    found = SUBJECT_REFERENCE.search(parsed.subject)
    if found:
        case = _load(int(found.group(1)))
        if case is not None and _sender_known_on_case(parsed.from_address, case):
            return ThreadMatch(case, "subject")
    return ThreadMatch(None)


def bounced_message_ids(parsed: ParsedEmail) -> list[str]:
    """Return the Message-IDs of the returned message inside a bounce report."""
    found = []
    for attachment in parsed.attachments:
        if attachment.content_type in ("message/rfc822", "text/rfc822-headers"):
            inner = email.message_from_bytes(
                attachment.content, policy=email.policy.default
            )
            message_id = message_id_of(inner)
            if message_id:
                found.append(message_id)
    return found


def _case_by_message_ids(ids: list[str]) -> SupportCase | None:
    if not ids:
        return None
    known = dict(
        InboundEmail.objects.filter(message_id__in=ids, case__isnull=False).values_list(
            "message_id", "case_id"
        )
    )
    known.update(
        OutboundEmail.objects.filter(message_id__in=ids).values_list(
            "message_id", "case_id"
        )
    )
    for message_id in ids:
        if message_id in known:
            return _load(known[message_id])
    return None


def _load(case_id: int) -> SupportCase | None:
    return (
        SupportCase.objects.select_related("customer", "order", "team")
        .filter(pk=case_id)
        .first()
    )


def _sender_known_on_case(address: str, case: SupportCase) -> bool:
    address = address.lower()
    if case.customer is not None and case.customer.email.lower() == address:
        return True
    if case.order is not None and case.order.email_key == address:
        return True
    return InboundEmail.objects.filter(case=case, from_address__iexact=address).exists()
