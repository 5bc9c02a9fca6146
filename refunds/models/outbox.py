"""The outbox: webhooks to the shop and emails to customers, awaiting delivery."""

from __future__ import annotations

import secrets
import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    """A URL of the shop that receives approved refunds, with its own secret.

    The secret signs outgoing webhooks and authenticates the shop's
    confirmations, so each endpoint can be rotated or revoked on its own.
    """

    name = models.CharField(max_length=100)
    url = models.URLField(
        max_length=500, help_text="HTTPS address that receives the webhooks."
    )
    secret = models.CharField(
        max_length=100,
        default=new_webhook_secret,
        help_text="Shared secret for the HMAC-SHA256 signatures, in both "
        "directions. Give it to the shop's developer; never put it in a URL.",
    )
    is_active = models.BooleanField(
        default=True, help_text="Only active endpoints receive new webhooks."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OutboxMessage(models.Model):
    """One webhook or email, written in the transaction of the change it reports.

    A background task delivers it. Delivery is at least once: the receiver
    de-duplicates webhooks on ``event_id``.
    """

    class Channel(models.TextChoices):
        WEBHOOK = "webhook", "Webhook"
        EMAIL = "email", "Email"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        DEAD = "dead", "Failed (dead letter)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The event this message reports. One event fans out to every active
    # endpoint with the same id, which receivers use to drop duplicates.
    event_id = models.UUIDField(default=uuid.uuid4, db_index=True)
    # Dotted name such as "refund.approved".
    event_type = models.CharField(max_length=64)
    channel = models.CharField(max_length=10, choices=Channel)
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="messages",
    )
    refund = models.ForeignKey(
        "refunds.RefundRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="outbox_messages",
    )
    # The webhook body, serialised the same way on every attempt.
    payload = models.JSONField(default=dict, blank=True)
    recipient = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)

    status = models.CharField(
        max_length=10, choices=Status, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # A worker that starts an attempt leases the message until this time. If
    # the worker dies, the message becomes due again when the lease expires.
    locked_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["status", "next_attempt_at"], name="refunds_outbox_due"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["event_id", "endpoint"],
                condition=Q(channel="webhook"),
                name="refunds_outbox_event_once_per_endpoint",
            ),
            models.CheckConstraint(
                condition=Q(channel="email", recipient__gt="")
                | Q(channel="webhook", endpoint__isnull=False),
                name="refunds_outbox_has_destination",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} to {self.destination}"

    @property
    def destination(self) -> str:
        if self.channel == self.Channel.WEBHOOK:
            return str(self.endpoint) if self.endpoint_id else "(no endpoint)"
        return self.recipient


class DeadLetter(OutboxMessage):
    """Messages whose every delivery attempt failed, for the admin's retry list."""

    class Meta:
        proxy = True
        verbose_name = "failed delivery (dead letter)"
        verbose_name_plural = "failed deliveries (dead letters)"
