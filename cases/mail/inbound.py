"""Receive one email: classify it, thread it into a case, store its files.

The HTTP endpoint and the mailbox command both call inbound_email_receive.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import Truncator

from cases.audit import Actor, record_event
from cases.mail.classify import Classification, MailKind, classify, is_no_reply_address
from cases.mail.models import EmailAttachment, InboundEmail, OutboundEmail
from cases.mail.outbound import email_queue
from cases.mail.parsing import ParsedAttachment, ParsedEmail, parse_email
from cases.mail.rendering import render_email
from cases.mail.text import strip_quoted_reply
from cases.mail.threading import ThreadMatch, bounced_message_ids, find_case
from cases.models import CaseMessage, Customer, Order, SupportCase
from cases.order_import import customer_key
from cases.services import (
    MAX_MESSAGE_LENGTH,
    case_add_customer_message,
    case_create,
)
from cases.shopify_export import order_number_key
from supportdesk.errors import StateConflict

logger = logging.getLogger(__name__)

# Author of the notes that record automatic mail on a case.
SYSTEM_AUTHOR = "Email system"
MAX_ATTACHMENTS = 20
# At most this many receipts go to one address per hour, so a responder that
# sets none of the automatic headers still cannot keep a loop going.
RECEIPTS_PER_HOUR = 3
# Order numbers in a subject, such as "#1001" or "order 1001".
_ORDER_IN_SUBJECT = re.compile(r"(?:#|\border\s+)([A-Za-z0-9-]{3,30})\b", re.I)


class MessageTooLarge(ValueError):
    """The raw message is larger than MAIL_MAX_MESSAGE_BYTES."""


@dataclass
class InboundResult:
    inbound: InboundEmail | None
    # True when the Message-ID was stored before; nothing new was written.
    duplicate: bool = False
    # True for our own messages coming back, which are not stored.
    dropped: bool = False
    skipped_attachments: list[str] = field(default_factory=list)

    @property
    def case(self) -> SupportCase | None:
        return self.inbound.case if self.inbound else None


def inbound_email_receive(*, raw: bytes, source: str) -> InboundResult:
    """Store the email in ``raw`` once, and add it to its case or open one.

    Raises MessageTooLarge, or MalformedEmail for bytes without headers or a
    sender. Auto-replies and bounces are recorded on their case as a note
    without changing it; our own messages are dropped.
    """
    if len(raw) > settings.MAIL_MAX_MESSAGE_BYTES:
        raise MessageTooLarge(
            f"The message has {len(raw):,} bytes; the limit is "
            f"{settings.MAIL_MAX_MESSAGE_BYTES:,} (MAIL_MAX_MESSAGE_BYTES)."
        )
    parsed = parse_email(raw)
    existing = _stored(parsed.message_id)
    if existing is not None:
        return InboundResult(existing, duplicate=True)
    classification = classify(parsed)
    if (
        classification.kind == MailKind.OWN
        or OutboundEmail.objects.filter(message_id=parsed.message_id).exists()
    ):
        logger.info(
            "Dropped an email from the support address",
            extra={"message_id": parsed.message_id, "source": source},
        )
        return InboundResult(None, dropped=True)

    saved_files: list[str] = []
    try:
        with transaction.atomic():
            result = _store(parsed, classification, source, saved_files)
    except IntegrityError:
        _delete_files(saved_files)
        existing = _stored(parsed.message_id)
        if existing is None:
            raise
        # Another worker stored the same message first.
        return InboundResult(existing, duplicate=True)
    except BaseException:
        _delete_files(saved_files)
        raise
    inbound = result.inbound
    if inbound is None:
        raise RuntimeError(f"Storing the email {parsed.message_id} returned no record.")
    logger.info(
        "Email received: %s",
        inbound.get_disposition_display(),
        extra={
            "inbound_email": inbound.pk,
            "case": inbound.case_id,
            "source": source,
            "reason": inbound.reason,
        },
    )
    return result


def _stored(message_id: str) -> InboundEmail | None:
    return (
        InboundEmail.objects.select_related("case")
        .filter(message_id=message_id)
        .first()
    )


def _store(
    parsed: ParsedEmail,
    classification: Classification,
    source: str,
    saved_files: list[str],
) -> InboundResult:
    inbound = InboundEmail(
        message_id=parsed.message_id,
        source=source,
        reason=classification.reason,
        from_address=parsed.from_address,
        from_name=parsed.from_name,
        subject=parsed.subject,
        in_reply_to=" ".join(parsed.in_reply_to),
        references=" ".join(parsed.references),
        sent_at=parsed.sent_at,
        size_bytes=parsed.size_bytes,
    )
    if classification.is_automatic:
        _store_automatic(parsed, classification, inbound)
        return InboundResult(inbound)

    match = find_case(parsed)
    actor = Actor.customer(parsed.from_name or parsed.from_address)
    stored, skipped = _attachments_to_store(parsed.attachments)
    text = strip_quoted_reply(parsed.text) if match.case else parsed.text
    body, full_text = _fit_body(text, skipped, has_files=bool(stored))
    if full_text is not None:
        stored.append(
            ParsedAttachment("message.txt", "text/plain", full_text.encode("utf-8"))
        )
    case, message = _add_to_case(parsed, match, inbound, actor, body)

    inbound.case = case
    inbound.case_message = message
    inbound.save()
    for attachment in stored:
        _save_attachment(attachment, inbound, message, saved_files)
    record_event(
        action="cases.email.received",
        actor=actor,
        target=inbound,
        case=case,
        changes={
            "disposition": inbound.disposition,
            "matched_by": match.via or None,
            "attachments": len(stored),
            "attachments_not_stored": len(skipped),
        },
    )
    if inbound.disposition != InboundEmail.Disposition.ADDED:
        receipt_queue(case=case, address=parsed.from_address)
    return InboundResult(inbound, skipped_attachments=skipped)


def _add_to_case(
    parsed: ParsedEmail,
    match: ThreadMatch,
    inbound: InboundEmail,
    actor: Actor,
    body: str,
) -> tuple[SupportCase, CaseMessage]:
    case = match.case
    if case is not None and case.status != SupportCase.Status.CLOSED:
        try:
            message = case_add_customer_message(case=case, actor=actor, body=body)
        except StateConflict:
            pass  # closed since it was matched: open a follow-up below
        else:
            inbound.disposition = InboundEmail.Disposition.ADDED
            return case, message

    customer = (
        case.customer
        if case is not None and case.customer_id
        else customer_for_email(parsed.from_address, parsed.from_name)
    )
    new_case = case_create(
        actor=actor,
        subject=parsed.subject or "(no subject)",
        channel=SupportCase.Channel.EMAIL,
        body=body,
        customer=customer,
        order=case.order if case is not None else _order_in_subject(parsed),
        team=case.team if case is not None else None,
        author_name=parsed.from_name or parsed.from_address,
    )
    message = new_case.messages.get(kind=CaseMessage.Kind.CUSTOMER)
    if case is None:
        inbound.disposition = InboundEmail.Disposition.OPENED
    else:
        inbound.disposition = InboundEmail.Disposition.FOLLOW_UP
        CaseMessage.objects.create(
            case=new_case,
            kind=CaseMessage.Kind.NOTE,
            author_name=SYSTEM_AUTHOR,
            body=f"Follow-up to {case.reference}, which is closed.",
        )
    return new_case, message


def _store_automatic(
    parsed: ParsedEmail, classification: Classification, inbound: InboundEmail
) -> None:
    """Record an auto-reply or bounce as a note on its case, changing nothing."""
    case = find_case(parsed).case
    if classification.kind == MailKind.BOUNCE:
        inbound.disposition = InboundEmail.Disposition.BOUNCE
        returned = OutboundEmail.objects.filter(
            message_id__in=bounced_message_ids(parsed)
        ).select_related("case")
        for outbound in returned:
            outbound.status = OutboundEmail.Status.BOUNCED
            outbound.save(update_fields=["status"])
            case = case or outbound.case
        headline = (
            "A delivery failure came back for an email of this case, so the "
            "customer may not have received it."
        )
    else:
        inbound.disposition = InboundEmail.Disposition.AUTO_REPLY
        headline = "An automatic reply came in. It did not reopen the case."
    inbound.case = case
    if case is not None:
        inbound.case_message = CaseMessage.objects.create(
            case=case,
            kind=CaseMessage.Kind.NOTE,
            author_name=SYSTEM_AUTHOR,
            body=(
                f"{headline}\nFrom: {parsed.from_address} "
                f"({classification.reason})\nSubject: {parsed.subject}\n\n"
                + Truncator(parsed.text).chars(2000)
            ),
        )
    inbound.save()
    record_event(
        action=f"cases.email.{inbound.disposition}_recorded",
        actor=Actor.system(SYSTEM_AUTHOR),
        target=inbound,
        case=case,
        reason=classification.reason,
    )


def _attachments_to_store(
    attachments: list[ParsedAttachment],
) -> tuple[list[ParsedAttachment], list[str]]:
    limit = settings.MAIL_MAX_ATTACHMENT_BYTES
    stored: list[ParsedAttachment] = []
    skipped: list[str] = []
    for attachment in attachments:
        size = len(attachment.content)
        if size > limit:
            skipped.append(
                f"{attachment.filename} ({size:,} bytes) was not stored: files "
                f"larger than {limit:,} bytes are refused."
            )
        elif len(stored) >= MAX_ATTACHMENTS:
            skipped.append(
                f"{attachment.filename} was not stored: at most "
                f"{MAX_ATTACHMENTS} files per email are kept."
            )
        else:
            stored.append(attachment)
    return stored, skipped


def _fit_body(
    text: str, skipped: list[str], *, has_files: bool
) -> tuple[str, str | None]:
    """Return the message body, and the full text when it had to be cut."""
    notes = "".join(f"\n\n[{line}]" for line in skipped)
    if not text.strip():
        text = (
            "(The email has no text; see its files.)"
            if has_files
            else ("(The email has no text.)")
        )
    room = MAX_MESSAGE_LENGTH - len(notes) - 200
    if len(text) <= room:
        return text + notes, None
    cut = (
        text[:room].rstrip()
        + "\n\n[The email was longer. Its full text is attached as message.txt.]"
    )
    return cut + notes, text


def _save_attachment(
    attachment: ParsedAttachment,
    inbound: InboundEmail,
    message: CaseMessage,
    saved_files: list[str],
) -> None:
    record = EmailAttachment(
        inbound_email=inbound,
        case=inbound.case,
        case_message=message,
        filename=attachment.filename[:200],
        content_type=attachment.content_type[:200],
        size_bytes=len(attachment.content),
    )
    record.file.save(attachment.filename, ContentFile(attachment.content), save=False)
    if record.file.name is None:
        raise RuntimeError(f"The storage returned no name for {attachment.filename!r}.")
    saved_files.append(record.file.name)
    record.save()


def _delete_files(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def customer_for_email(address: str, name: str) -> Customer:
    """Return the customer with this email address, created if new."""
    customer, created = Customer.objects.get_or_create(
        key=customer_key(address, ""),
        defaults={"email": address, "name": name[:200]},
    )
    if not created and name and not customer.name:
        customer.name = name[:200]
        customer.save(update_fields=["name", "updated_at"])
    return customer


def _order_in_subject(parsed: ParsedEmail) -> Order | None:
    """Return an order named in the subject that belongs to the sender."""
    keys = [
        order_number_key(found) for found in _ORDER_IN_SUBJECT.findall(parsed.subject)
    ]
    if not keys:
        return None
    return Order.objects.filter(
        number_key__in=keys, email_key=parsed.from_address.lower()
    ).first()


def receipt_queue(*, case: SupportCase, address: str) -> None:
    """Confirm a new case to its sender, unless that could feed a mail loop."""
    if is_no_reply_address(address):
        return
    recent = OutboundEmail.objects.filter(
        kind=OutboundEmail.Kind.RECEIPT,
        to_address__iexact=address,
        created_at__gte=timezone.now() - timedelta(hours=1),
    ).count()
    if recent >= RECEIPTS_PER_HOUR:
        logger.warning(
            "Receipt for case %s not sent: %s receipts to the sender in the last hour",
            case.reference,
            recent,
            extra={"case": case.reference},
        )
        return
    rendered = render_email(
        "case_receipt", {"case": case, "shop_name": settings.SHOP_NAME}
    )
    email_queue(
        case=case,
        kind=OutboundEmail.Kind.RECEIPT,
        rendered=rendered,
        to_address=address,
        auto_submitted="auto-replied",
    )
