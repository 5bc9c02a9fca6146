"""Stored first responses of writes that carry an idempotency key."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class IdempotencyRecord(models.Model):
    """The first response to a write sent with an idempotency key.

    ``scope`` names the caller (such as ``user:42``), so two callers cannot
    collide on a key. ``fingerprint`` is a SHA-256 of the request, so a key
    reused for another request is detected.
    """

    scope = models.CharField(max_length=150)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField(default=dict, blank=True)
    # Headers replayed with the body, such as Location of a created refund.
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "key"], name="refunds_idempotency_key_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"
