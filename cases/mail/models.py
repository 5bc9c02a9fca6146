"""Emails received and sent on cases, and the files attached to them."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class InboundEmail(models.Model):
    """One received message, kept once per Message-ID.

    The unique Message-ID makes delivery idempotent: the same message read
    twice from a mailbox or posted twice to the endpoint is stored once.
    """

    class Source(models.TextChoices):
        HTTP = "http", "HTTP endpoint"
        MAILDIR = "maildir", "Maildir"
        MBOX = "mbox", "mbox"

    class Disposition(models.TextChoices):
        OPENED = "opened", "Opened a case"
        FOLLOW_UP = "follow_up", "Opened a follow-up to a closed case"
        ADDED = "added", "Added to a case"
        AUTO_REPLY = "auto_reply", "Automatic reply, recorded only"
        BOUNCE = "bounce", "Bounce, recorded only"

    # Without angle brackets. Messages that have none get "sha256-<hex>@..."
    # computed from their bytes.
    message_id = models.CharField(max_length=500, unique=True)
    source = models.CharField(max_length=10, choices=Source)
    disposition = models.CharField(max_length=12, choices=Disposition)
    # Why the message was classified so, such as "Auto-Submitted: auto-replied".
    reason = models.CharField(max_length=200, blank=True)
    case = models.ForeignKey(
        "cases.SupportCase",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="inbound_emails",
    )
    case_message = models.OneToOneField(
        "cases.CaseMessage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbound_email",
    )
    from_address = models.CharField(max_length=254)
    from_name = models.CharField(max_length=200, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    in_reply_to = models.TextField(blank=True)
    references = models.TextField(blank=True)
    # The Date header, when it could be read.
    sent_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    size_bytes = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["case", "received_at"], name="cases_inbound_case"),
        ]

    def __str__(self) -> str:
        return f"<{self.message_id}>"


class OutboundEmail(models.Model):
    """One message to a customer, stored before it is sent.

    The row is written in the same transaction as the reply or the status
    change behind it, and delivered after the commit. A failed delivery
    stays queued with a later ``next_attempt_at``; ``manage.py
    send_queued_mail`` retries it with the same Message-ID.
    """

    class Kind(models.TextChoices):
        REPLY = "reply", "Agent reply"
        RECEIPT = "receipt", "Receipt for a new case"
        SURVEY = "survey", "Satisfaction survey"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        BOUNCED = "bounced", "Bounced"

    case = models.ForeignKey(
        "cases.SupportCase", on_delete=models.CASCADE, related_name="outbound_emails"
    )
    case_message = models.ForeignKey(
        "cases.CaseMessage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outbound_emails",
    )
    kind = models.CharField(max_length=10, choices=Kind)
    message_id = models.CharField(max_length=500, unique=True)
    in_reply_to = models.CharField(max_length=500, blank=True)
    # Message-IDs without angle brackets, separated by spaces, oldest first.
    references = models.TextField(blank=True)
    to_address = models.CharField(max_length=254)
    reply_to = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=500)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    # RFC 3834 Auto-Submitted value for receipts and surveys; empty for
    # messages an agent wrote.
    auto_submitted = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # The exception class and SMTP code of the last failure; never addresses.
    last_error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["status", "next_attempt_at"], name="cases_outbound_due"
            ),
            models.Index(fields=["case", "created_at"], name="cases_outbound_case"),
            models.Index(
                fields=["to_address", "kind", "created_at"],
                name="cases_outbound_recipient",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} <{self.message_id}>"


def attachment_path(instance: EmailAttachment, filename: str) -> str:
    """Store files under a random name, so nothing a sender chose reaches the disk."""
    return f"mail-attachments/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class EmailAttachment(models.Model):
    """A file from an inbound email, offered to agents as a download only."""

    inbound_email = models.ForeignKey(
        InboundEmail, on_delete=models.CASCADE, related_name="attachments"
    )
    case = models.ForeignKey(
        "cases.SupportCase", on_delete=models.CASCADE, related_name="email_attachments"
    )
    case_message = models.ForeignKey(
        "cases.CaseMessage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attachments",
    )
    file = models.FileField(upload_to=attachment_path, max_length=300)
    # The sender's file name, cleaned of paths and control characters.
    filename = models.CharField(max_length=200)
    # As the message declared it; used only as the download's Content-Type.
    content_type = models.CharField(max_length=200)
    size_bytes = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename
