"""The shop's refund policy."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q


class RefundPolicy(models.Model):
    """The shop's rules for which refunds are allowed and who must approve them.

    Exactly one policy is active; the eligibility rules read it.
    """

    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    return_window_days = models.PositiveIntegerField(
        default=30,
        help_text="Days after fulfilment (or after the order date while "
        "unfulfilled) during which a refund may be requested. The last day "
        "counts in full, until midnight in the policy's time zone.",
    )
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        help_text="IANA time zone in which the return window ends, such as "
        "Europe/Paris. Empty means the shop's time zone.",
    )
    non_refundable_skus = models.TextField(
        blank=True,
        help_text="One SKU per line. A line ending in * matches every SKU that "
        "starts with the text before it.",
    )
    non_refundable_tags = models.TextField(
        blank=True,
        help_text="One order tag per line, such as final-sale. Orders carrying "
        "one of these tags are not refundable. Matching ignores letter case.",
    )
    non_refundable_product_types = models.TextField(
        blank=True,
        help_text="One product type per line, such as Underwear. Lines whose SKU "
        "the product catalog lists with one of these types are not refundable. "
        "Matching ignores letter case.",
    )
    gift_cards_refundable = models.BooleanField(default=False)
    shipping_refundable = models.BooleanField(
        default=False,
        help_text="Refund the shipping charge with the request that returns the "
        "last refundable item of an order.",
    )
    currency = models.CharField(
        max_length=3,
        default="USD",
        help_text="Currency of the amounts below. Requests in another currency "
        "always need a supervisor.",
    )
    auto_approve_limit = models.DecimalField(
        max_digits=12,
        decimal_places=3,
        default=Decimal("0"),
        help_text="Clean requests up to this amount are approved without an "
        "agent. 0 turns automatic approval off.",
    )
    supervisor_threshold = models.DecimalField(
        max_digits=12,
        decimal_places=3,
        default=Decimal("500"),
        help_text="Requests above this amount need a supervisor's approval, "
        "whatever the agent's own limit.",
    )
    abuse_period_days = models.PositiveIntegerField(
        default=90, help_text="Period, in days, over which refund counts are taken."
    )
    abuse_max_refunds = models.PositiveIntegerField(
        default=5,
        help_text="A customer with this many refund requests in the period is "
        "sent to review. 0 turns the check off.",
    )
    abuse_max_ratio = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        default=Decimal("0.50"),
        help_text="A customer whose refunded share of spending in the period is "
        "above this fraction (0.50 is half) is sent to review. 0 turns the "
        "check off.",
    )
    require_ownership_proof = models.BooleanField(
        default=False,
        help_text="Email a one-time code to the order's address before a "
        "request is accepted.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "refund policies"
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"],
                condition=Q(is_active=True),
                name="refunds_policy_one_active",
                violation_error_message="Only one refund policy can be active.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def sku_patterns(self) -> list[str]:
        return [
            line.strip()
            for line in self.non_refundable_skus.splitlines()
            if line.strip()
        ]

    @property
    def product_type_set(self) -> set[str]:
        return {
            line.strip().casefold()
            for line in self.non_refundable_product_types.splitlines()
            if line.strip()
        }

    @property
    def tag_set(self) -> set[str]:
        return {
            line.strip().lower()
            for line in self.non_refundable_tags.splitlines()
            if line.strip()
        }
