"""One-time codes that prove a customer can read the order's mailbox."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class OwnershipChallenge(models.Model):
    """A one-time code emailed to an order's address before a refund request."""

    order = models.ForeignKey(
        "cases.Order", on_delete=models.CASCADE, related_name="ownership_challenges"
    )
    # HMAC of the code keyed with SECRET_KEY. The code itself is never stored.
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Code for {self.order}"
