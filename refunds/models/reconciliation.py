"""Orders whose shop refunds disagree with Supportdesk's record."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from supportdesk.money import Money


class ReconciliationFlag(models.Model):
    """A difference between the shop's refunded amount and Supportdesk's.

    Raised by an import (or by a shop reporting a failed refund) for a
    supervisor to check. Both figures are kept as they were at that moment.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    class Kind(models.TextChoices):
        SHOP_REFUNDED_MORE = "shop_more", "Shop refunded more than Supportdesk"
        SHOP_REFUNDED_LESS = "shop_less", "Shop refunded less than Supportdesk"
        SHOP_FAILED = "shop_failed", "Shop reported a failed refund"

    order = models.ForeignKey(
        "cases.Order", on_delete=models.PROTECT, related_name="reconciliation_flags"
    )
    refund = models.ForeignKey(
        "refunds.RefundRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reconciliation_flags",
    )
    kind = models.CharField(max_length=12, choices=Kind)
    status = models.CharField(max_length=10, choices=Status, default=Status.OPEN)
    currency = models.CharField(max_length=3)
    # The shop's "Refunded Amount" in the import.
    shop_refunded_minor = models.BigIntegerField()
    # What Supportdesk expected the shop to report: the refunds it confirmed as
    # paid out plus those it already knew the shop made on its own.
    expected_minor = models.BigIntegerField()
    # Approved by Supportdesk, whether or not the payout is confirmed yet.
    supportdesk_approved_minor = models.BigIntegerField()
    detail = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolution_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "kind"],
                condition=Q(status="open"),
                name="refunds_reconciliation_one_open_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.order}: {self.get_kind_display()}"

    @property
    def shop_refunded(self) -> Money:
        return Money(self.shop_refunded_minor, self.currency)

    @property
    def expected(self) -> Money:
        return Money(self.expected_minor, self.currency)

    @property
    def difference(self) -> Money:
        return Money(self.shop_refunded_minor - self.expected_minor, self.currency)
