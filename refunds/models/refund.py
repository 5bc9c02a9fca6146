"""Refund requests, the lines they cover, their decisions and attempts."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from supportdesk.money import Money


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
    # The last agent who changed requested_minor. Four eyes: this agent may not
    # approve the request above their own limit.
    amount_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    amount_changed_at = models.DateTimeField(null=True, blank=True)
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


class RefundDecision(models.Model):
    """One decision on a refund request: who, when, which amount and why.

    Rows are only ever added. The request contains the current state, and
    this table keeps every step that led to it, for supervisors and audits.
    """

    class Kind(models.TextChoices):
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        AMOUNT_CHANGED = "amount_changed", "Amount changed"
        REFUNDED = "refunded", "Marked refunded"
        SHOP_FAILED = "shop_failed", "Refund failed in the shop"
        CANCELLED = "cancelled", "Approval cancelled"
        ESCALATED = "escalated", "Sent to a supervisor"

    class Level(models.TextChoices):
        AGENT = "agent", "Agent"
        SUPERVISOR = "supervisor", "Supervisor"
        SYSTEM = "system", "Automatic"
        INTEGRATION = "integration", "Shop integration"

    refund = models.ForeignKey(
        RefundRequest, on_delete=models.PROTECT, related_name="decisions"
    )
    kind = models.CharField(max_length=20, choices=Kind)
    level = models.CharField(
        max_length=12,
        choices=Level,
        help_text="The authority the decision was taken with.",
    )
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The actor's name at the time, kept if the user is renamed.
    actor_name = models.CharField(max_length=200)
    # The amount decided on: approved, the new requested amount, or the
    # amount an agent recommends when sending the request to a supervisor.
    amount_minor = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["refund", "created_at"], name="refunds_decision_refund"
            ),
            models.Index(fields=["kind", "created_at"], name="refunds_decision_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.actor_name}"

    @property
    def amount(self) -> Money | None:
        if self.amount_minor is None:
            return None
        return Money(self.amount_minor, self.currency)


class RefundAttempt(models.Model):
    """One evaluated submission of a refund request, stored or declined.

    A declined request is not stored as a RefundRequest, so this record is
    what a policy preview replays: the items chosen, when, and the outcome.
    """

    order = models.ForeignKey(
        "cases.Order", on_delete=models.CASCADE, related_name="refund_attempts"
    )
    refund = models.OneToOneField(
        RefundRequest,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attempt",
    )
    # Order line id (as a string, the JSON key) to the quantity chosen.
    selection = models.JSONField(default=dict)
    reason_code = models.CharField(max_length=20, choices=RefundRequest.Reason)
    outcome = models.CharField(max_length=20, choices=RefundRequest.Outcome)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.order} {self.get_outcome_display()}"

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)

    @property
    def selection_by_line(self) -> dict[int, int]:
        return {int(line_id): quantity for line_id, quantity in self.selection.items()}


class AwaitingSupervisor(RefundRequest):
    """Undecided requests that only a supervisor can approve in full.

    A proxy for the supervisors' approvals list in the admin; see
    ``selectors.awaiting_supervisor`` for which requests it lists.
    """

    class Meta:
        proxy = True
        verbose_name = "refund awaiting a supervisor"
        verbose_name_plural = "refunds awaiting a supervisor"
