"""Outgoing customer email: queue it with the case change, deliver after commit.

Every message gets a Message-ID when it is queued, and In-Reply-To and
References that point at the case's earlier messages, so the customer's
mail program threads the conversation and the customer's reply finds its case.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from email.headerregistry import Address
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from cases.mail.models import InboundEmail, OutboundEmail
from cases.mail.rendering import RenderedEmail, render_email
from cases.mail.text import REPLY_ABOVE_MARKER
from cases.models import CaseMessage, SupportCase

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
# A claim older than this is taken to be from a worker that died mid-send.
STALE_CLAIM = timedelta(minutes=15)
# References keeps the first Message-ID of the thread and the latest ones.
MAX_REFERENCES = 20


def support_domain() -> str:
    return settings.SUPPORT_EMAIL.rpartition("@")[2] or "localhost"


def new_message_id() -> str:
    return make_msgid(domain=support_domain()).strip("<>")


def reply_address_for(case: SupportCase) -> str:
    """Return the plus address that leads a reply back to ``case``."""
    local, _, domain = settings.SUPPORT_EMAIL.partition("@")
    return f"{local}+{case_address_tag(case.pk)}@{domain}"


def case_address_tag(case_id: int) -> str:
    signature = salted_hmac(
        "cases.mail.reply-address", str(case_id), algorithm="sha256"
    ).hexdigest()
    return f"c-{case_id:06d}.{signature[:12]}"


def case_id_from_address_tag(tag: str) -> int | None:
    """Return the case id of a plus-address tag if its signature is valid."""
    reference, _, signature = tag.lower().partition(".")
    if not reference.startswith("c-") or not reference[2:].isdigit():
        return None
    case_id = int(reference[2:])
    expected = case_address_tag(case_id).partition(".")[2]
    return case_id if constant_time_compare(signature, expected) else None


def recipient_for(case: SupportCase) -> str:
    """Return the customer's email address for ``case``, or ""."""
    if case.customer is not None and case.customer.email:
        return case.customer.email
    if case.order is not None and case.order.email:
        return case.order.email
    return ""


def thread_message_ids(case: SupportCase) -> list[str]:
    """Return the Message-IDs of the case's emails, oldest first."""
    inbound = InboundEmail.objects.filter(case=case).values_list(
        "received_at", "message_id"
    )
    outbound = OutboundEmail.objects.filter(case=case).values_list(
        "created_at", "message_id"
    )
    return [message_id for _, message_id in sorted([*inbound, *outbound])]


def email_queue(
    *,
    case: SupportCase,
    kind: str,
    rendered: RenderedEmail,
    to_address: str,
    case_message: CaseMessage | None = None,
    auto_submitted: str = "",
) -> OutboundEmail:
    """Store an email for ``case`` and deliver it when the transaction commits.

    Call it inside the transaction that makes the change the email reports,
    so that the email exists if and only if the change does.
    """
    thread = thread_message_ids(case)
    last_inbound = (
        InboundEmail.objects.filter(case=case, case_message__isnull=False)
        .order_by("-received_at", "-id")
        .values_list("message_id", flat=True)
        .first()
    )
    references = thread[:1] + thread[1:][-(MAX_REFERENCES - 1) :]
    outbound = OutboundEmail.objects.create(
        case=case,
        case_message=case_message,
        kind=kind,
        message_id=new_message_id(),
        in_reply_to=last_inbound or (thread[-1] if thread else ""),
        references=" ".join(references),
        to_address=to_address,
        reply_to=reply_address_for(case)
        if settings.SUPPORT_EMAIL_PLUS_ADDRESSING
        else "",
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        auto_submitted=auto_submitted,
    )
    transaction.on_commit(lambda: outbound_deliver(outbound.pk))
    return outbound


def build_message(outbound: OutboundEmail) -> EmailMultiAlternatives:
    """Build the Django email for a stored outbound row."""
    headers = {"Message-ID": f"<{outbound.message_id}>"}
    if outbound.in_reply_to:
        headers["In-Reply-To"] = f"<{outbound.in_reply_to}>"
    if outbound.references:
        headers["References"] = " ".join(
            f"<{message_id}>" for message_id in outbound.references.split()
        )
    if outbound.auto_submitted:
        # RFC 3834, and Exchange's own header: no out-of-office replies.
        headers["Auto-Submitted"] = outbound.auto_submitted
        headers["X-Auto-Response-Suppress"] = "All"
    message = EmailMultiAlternatives(
        subject=outbound.subject,
        body=outbound.body_text,
        from_email=str(
            Address(
                display_name=f"{settings.SHOP_NAME} support",
                addr_spec=settings.SUPPORT_EMAIL,
            )
        ),
        to=[outbound.to_address],
        reply_to=[outbound.reply_to] if outbound.reply_to else None,
        headers=headers,
    )
    if outbound.body_html:
        message.attach_alternative(outbound.body_html, "text/html")
    return message


def outbound_deliver(outbound_id: int) -> bool:
    """Send one queued email; on failure schedule a retry. Return True if sent.

    The row is claimed with a conditional UPDATE, so two workers never send
    the same email at once, on SQLite and PostgreSQL alike, and no database
    lock is held while the mail server responds.
    """
    now = timezone.now()
    claimed = (
        OutboundEmail.objects.filter(pk=outbound_id)
        .filter(
            Q(status=OutboundEmail.Status.QUEUED, next_attempt_at__lte=now)
            | Q(status=OutboundEmail.Status.SENDING, claimed_at__lt=now - STALE_CLAIM)
        )
        .update(
            status=OutboundEmail.Status.SENDING,
            claimed_at=now,
            attempts=F("attempts") + 1,
        )
    )
    if not claimed:
        return False
    outbound = OutboundEmail.objects.get(pk=outbound_id)
    try:
        build_message(outbound).send(using="default")
    # Any failure, not only SMTP errors, must leave the row retryable: this
    # runs after the commit, where raising would turn a saved reply into a
    # server error.
    except Exception as exc:
        _record_failure(outbound, exc)
        return False
    OutboundEmail.objects.filter(pk=outbound_id).update(
        status=OutboundEmail.Status.SENT, sent_at=timezone.now(), last_error=""
    )
    logger.info(
        "Email %s sent for case %s",
        outbound.get_kind_display().lower(),
        outbound.case_id,
        extra={"outbound_email": outbound.pk, "case": outbound.case_id},
    )
    return True


def _record_failure(outbound: OutboundEmail, exc: Exception) -> None:
    error = type(exc).__name__
    if isinstance(exc, smtplib.SMTPResponseException):
        error = f"{error} {exc.smtp_code}"
    gave_up = outbound.attempts >= MAX_ATTEMPTS
    delay = timedelta(minutes=2 ** min(outbound.attempts, 8))
    OutboundEmail.objects.filter(pk=outbound.pk).update(
        status=OutboundEmail.Status.FAILED if gave_up else OutboundEmail.Status.QUEUED,
        next_attempt_at=timezone.now() + delay,
        last_error=error[:200],
    )
    log = logger.error if gave_up else logger.warning
    log(
        "Email %s for case %s failed on attempt %s: %s",
        outbound.pk,
        outbound.case_id,
        outbound.attempts,
        error,
        exc_info=not isinstance(exc, smtplib.SMTPException | OSError),
        extra={"outbound_email": outbound.pk, "case": outbound.case_id},
    )


def due_outbound_ids() -> list[int]:
    """Return the ids of queued emails due now and of stale claims."""
    now = timezone.now()
    return list(
        OutboundEmail.objects.filter(
            Q(status=OutboundEmail.Status.QUEUED, next_attempt_at__lte=now)
            | Q(status=OutboundEmail.Status.SENDING, claimed_at__lt=now - STALE_CLAIM)
        )
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)
    )


def reply_email_queue(*, message: CaseMessage) -> OutboundEmail | None:
    """Queue the email of an agent's reply; None when the case has no address."""
    case = message.case
    to_address = recipient_for(case)
    if not to_address:
        logger.info(
            "Reply on case %s not emailed: no customer address",
            case.reference,
            extra={"case": case.reference},
        )
        return None
    rendered = render_email(
        "case_reply",
        {
            "case": case,
            "message": message,
            "marker": REPLY_ABOVE_MARKER,
            "shop_name": settings.SHOP_NAME,
        },
    )
    return email_queue(
        case=case,
        kind=OutboundEmail.Kind.REPLY,
        rendered=rendered,
        to_address=to_address,
        case_message=message,
    )
