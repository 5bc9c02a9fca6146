"""Refund policies, refund requests and the lines they cover."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from supportdesk.money import Money


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
    def tag_set(self) -> set[str]:
        return {
            line.strip().lower()
            for line in self.non_refundable_tags.splitlines()
            if line.strip()
        }


def new_status_token() -> str:
    return secrets.token_urlsafe(32)


class RefundRequest(models.Model):
    """A request to refund some lines of one order, and its decision."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Awaiting decision"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        REFUNDED = "refunded", "Refunded"
        CANCELLED = "cancelled", "Cancelled"

    # Statuses whose units and value still count against the order.
    HOLDING_STATUSES = (Status.REQUESTED, Status.APPROVED, Status.REFUNDED)
    # Statuses whose approved amount counts as money refunded.
    COMMITTED_STATUSES = (Status.APPROVED, Status.REFUNDED)

    class Reason(models.TextChoices):
        DAMAGED = "damaged", "Arrived damaged or faulty"
        WRONG_ITEM = "wrong_item", "Wrong item sent"
        NOT_AS_DESCRIBED = "not_as_described", "Not as described"
        DOES_NOT_FIT = "does_not_fit", "Does not fit"
        ARRIVED_LATE = "arrived_late", "Arrived too late"
        NOT_RECEIVED = "not_received", "Never arrived"
        CHANGED_MIND = "changed_mind", "Changed my mind"
        OTHER = "other", "Other"

    class Outcome(models.TextChoices):
        AUTO_APPROVE = "auto_approve", "Approved automatically"
        NEEDS_AGENT = "needs_agent", "Needs an agent"
        NEEDS_SUPERVISOR = "needs_supervisor", "Needs a supervisor"
        NOT_ELIGIBLE = "not_eligible", "Not eligible"

    order = models.ForeignKey(
        "cases.Order", on_delete=models.PROTECT, related_name="refund_requests"
    )
    case = models.OneToOneField(
        "cases.SupportCase",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="refund_request",
    )
    customer = models.ForeignKey(
        "cases.Customer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="refund_requests",
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.REQUESTED)
    reason_code = models.CharField(max_length=20, choices=Reason)
    reason_text = models.TextField(blank=True)
    currency = models.CharField(max_length=3)
    requested_minor = models.BigIntegerField()
    # The shipping charge included in requested_minor, when the policy refunds it.
    shipping_minor = models.BigIntegerField(default=0)
    approved_minor = models.BigIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome)
    # Every eligibility rule with its result, as eligibility.Trace.as_json().
    eligibility_trace = models.JSONField(default=list, blank=True)
    # Secret part of the customer's status link.
    token = models.CharField(max_length=64, unique=True, default=new_status_token)
    # One value per rendering of the public form, so a resubmission of the
    # same form finds the request that it already created.
    submission_key = models.CharField(max_length=64, unique=True, null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The agent or integration that filed the request for the "
        "customer, if any.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decision_note = models.TextField(blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    external_reference = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["status", "created_at"], name="refunds_request_status"
            ),
            models.Index(
                fields=["customer", "created_at"], name="refunds_request_customer"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(requested_minor__gte=0) & Q(shipping_minor__gte=0),
                name="refunds_request_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(approved_minor__isnull=True)
                | (
                    Q(approved_minor__gt=0)
                    & Q(approved_minor__lte=F("requested_minor"))
                ),
                name="refunds_request_approved_within_requested",
                violation_error_message="The approved amount must be above zero "
                "and at most the requested amount.",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return format_refund_reference(self.pk)

    @property
    def requested(self) -> Money:
        return Money(self.requested_minor, self.currency)

    @property
    def approved(self) -> Money | None:
        if self.approved_minor is None:
            return None
        return Money(self.approved_minor, self.currency)

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.REQUESTED


def format_refund_reference(pk: int | None) -> str:
    return f"R-{pk:06d}" if pk else "R-new"


def parse_refund_reference(reference: str) -> int | None:
    """Return the refund id in ``R-000045`` (any case, zeros optional), or None."""
    text = reference.strip().upper()
    if not text.startswith("R-") or not text[2:].isdigit():
        return None
    return int(text[2:]) or None


class RefundLine(models.Model):
    """Units of one order line covered by a refund request, and their value."""

    refund = models.ForeignKey(
        RefundRequest, on_delete=models.CASCADE, related_name="lines"
    )
    order_line = models.ForeignKey(
        "cases.OrderLine", on_delete=models.PROTECT, related_name="refund_lines"
    )
    quantity = models.PositiveIntegerField()
    amount_minor = models.BigIntegerField()

    class Meta:
        ordering = ["refund", "order_line__position"]
        constraints = [
            models.UniqueConstraint(
                fields=["refund", "order_line"], name="refunds_line_once_per_refund"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0) & Q(amount_minor__gte=0),
                name="refunds_line_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.order_line.name}"
