"""Customers, their orders from the shop, support cases and the audit trail."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone

from supportdesk.money import Money


class Customer(models.Model):
    """A person who ordered from the shop, keyed by email or, lacking one, phone."""

    # "email:<address in lower case>" or "phone:<digits>"; see customer_key().
    key = models.CharField(max_length=320, unique=True)
    email = models.EmailField(max_length=254, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "email"]

    def __str__(self) -> str:
        return self.name or self.email or self.phone or self.key


class Order(models.Model):
    """An order imported from the shop's export, with amounts in minor units.

    The amounts obey: total = sum of line totals + shipping + duties. Money
    refunded through Supportdesk is counted in ``refunded_minor``; money the
    shop refunded on its own is ``external_refunded_minor``. A database check
    keeps their sum at or below what was paid.
    """

    class FinancialStatus(models.TextChoices):
        PENDING = "pending", "Pending"
        AUTHORIZED = "authorized", "Authorized"
        PARTIALLY_PAID = "partially_paid", "Partially paid"
        PAID = "paid", "Paid"
        PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
        REFUNDED = "refunded", "Refunded"
        VOIDED = "voided", "Voided"
        EXPIRED = "expired", "Expired"

    class FulfillmentStatus(models.TextChoices):
        UNFULFILLED = "unfulfilled", "Unfulfilled"
        PARTIAL = "partial", "Partially fulfilled"
        FULFILLED = "fulfilled", "Fulfilled"
        RESTOCKED = "restocked", "Restocked"

    # The order name as the shop shows it, such as "#1001" or "J-939719".
    number = models.CharField(max_length=64)
    # The name in lower case without a leading "#", for lookups.
    number_key = models.CharField(max_length=64, unique=True)
    shop_order_id = models.CharField(max_length=32, blank=True)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    email = models.CharField(max_length=254, blank=True)
    email_key = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    customer_name = models.CharField(max_length=200, blank=True)
    currency = models.CharField(max_length=3)
    financial_status = models.CharField(max_length=20, choices=FinancialStatus)
    fulfillment_status = models.CharField(
        max_length=20, choices=FulfillmentStatus, default=FulfillmentStatus.UNFULFILLED
    )
    placed_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    # Not in Shopify's export; set by integrations that know the delivery.
    delivered_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    subtotal_minor = models.BigIntegerField(default=0)
    discount_minor = models.BigIntegerField(default=0)
    discount_codes = models.CharField(max_length=500, blank=True)
    shipping_minor = models.BigIntegerField(default=0)
    taxes_minor = models.BigIntegerField(default=0)
    # True when the prices already include the taxes (VAT style), so the
    # taxes are not added on top of the subtotal.
    taxes_included = models.BooleanField(default=False)
    duties_minor = models.BigIntegerField(default=0)
    total_minor = models.BigIntegerField(default=0)
    # Money actually captured: the total less the outstanding balance, or
    # zero while the payment is pending, authorized, voided or expired.
    paid_minor = models.BigIntegerField(default=0)
    # "Refunded Amount" as the last import reported it.
    shop_refunded_minor = models.BigIntegerField(default=0)
    # The part of shop_refunded_minor that Supportdesk did not refund itself.
    external_refunded_minor = models.BigIntegerField(default=0)
    # Approved by Supportdesk: approved and refunded requests.
    refunded_minor = models.BigIntegerField(default=0)

    tags = models.CharField(max_length=1000, blank=True)
    source = models.CharField(max_length=100, blank=True)
    payment_method = models.CharField(max_length=200, blank=True)
    shipping_method = models.CharField(max_length=200, blank=True)
    shipping_country = models.CharField(max_length=100, blank=True)
    shipping_city = models.CharField(max_length=100, blank=True)
    notes = models.TextField(blank=True)
    note_attributes = models.TextField(blank=True)

    imported_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-placed_at", "-id"]
        indexes = [
            models.Index(fields=["email_key"], name="cases_order_email_key"),
            models.Index(
                fields=["customer", "-placed_at"], name="cases_order_customer"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(refunded_minor__gte=0)
                & Q(external_refunded_minor__gte=0)
                & Q(paid_minor__gte=0),
                name="cases_order_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(
                    refunded_minor__lte=F("paid_minor") - F("external_refunded_minor")
                ),
                name="cases_order_refunds_within_paid",
                violation_error_message="The refunds would exceed what was paid.",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def money(self, minor: int) -> Money:
        return Money(minor, self.currency)

    @property
    def total(self) -> Money:
        return self.money(self.total_minor)

    @property
    def paid(self) -> Money:
        return self.money(self.paid_minor)

    @property
    def refundable_minor(self) -> int:
        """Return what may still be refunded, before open requests."""
        return max(
            0, self.paid_minor - self.external_refunded_minor - self.refunded_minor
        )

    @property
    def tag_list(self) -> list[str]:
        return [tag.strip() for tag in self.tags.split(",") if tag.strip()]


class OrderLine(models.Model):
    """One line item of an order.

    ``total_minor`` is what the line's whole quantity cost the customer: the
    price times the quantity, less its share of discounts, plus its share of
    taxes charged on top. The shares are allocated in minor units so that the
    line totals, shipping and duties sum to the order total.
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    # 1-based position of the line in the export, its identity on re-import.
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=500)
    sku = models.CharField(max_length=200, blank=True)
    vendor = models.CharField(max_length=200, blank=True)
    quantity = models.PositiveIntegerField()
    unit_price_minor = models.BigIntegerField()
    discount_minor = models.BigIntegerField(default=0)
    tax_minor = models.BigIntegerField(default=0)
    total_minor = models.BigIntegerField()
    requires_shipping = models.BooleanField(default=True)
    taxable = models.BooleanField(default=True)
    is_gift_card = models.BooleanField(default=False)
    fulfillment_status = models.CharField(max_length=20, blank=True)
    # Units and value held by refund requests that are not rejected or
    # cancelled. Updated only under the order's row lock.
    quantity_reserved = models.PositiveIntegerField(default=0)
    amount_reserved_minor = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["order", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "position"], name="cases_orderline_position"
            ),
            models.CheckConstraint(
                condition=Q(quantity_reserved__lte=F("quantity")),
                name="cases_orderline_reserved_within_quantity",
                violation_error_message="More units would be refunded than were "
                "ordered.",
            ),
            models.CheckConstraint(
                condition=Q(amount_reserved_minor__gte=0)
                & Q(amount_reserved_minor__lte=F("total_minor")),
                name="cases_orderline_reserved_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.name}"

    @property
    def quantity_refundable(self) -> int:
        return self.quantity - self.quantity_reserved

    @property
    def unit_price(self) -> Money:
        return Money(self.unit_price_minor, self.order.currency)

    @property
    def total(self) -> Money:
        return Money(self.total_minor, self.order.currency)


class SupportCase(models.Model):
    """A conversation with a customer, worked by an agent."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PENDING = "pending", "Pending (waiting on customer)"
        ON_HOLD = "on_hold", "On hold"
        SOLVED = "solved", "Solved"
        CLOSED = "closed", "Closed"

    # Allowed changes of status. A closed case is final: a new message from
    # the customer opens a follow-up case.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.OPEN: frozenset({Status.PENDING, Status.ON_HOLD, Status.SOLVED}),
        Status.PENDING: frozenset({Status.OPEN, Status.ON_HOLD, Status.SOLVED}),
        Status.ON_HOLD: frozenset({Status.OPEN, Status.PENDING, Status.SOLVED}),
        Status.SOLVED: frozenset({Status.OPEN, Status.CLOSED}),
        Status.CLOSED: frozenset(),
    }
    ACTIVE_STATUSES = (Status.OPEN, Status.PENDING, Status.ON_HOLD)

    class Priority(models.IntegerChoices):
        LOW = 1, "Low"
        NORMAL = 2, "Normal"
        HIGH = 3, "High"
        URGENT = 4, "Urgent"

    class Channel(models.TextChoices):
        REFUND_FORM = "refund_form", "Refund form"
        CONTACT_FORM = "contact_form", "Contact form"
        EMAIL = "email", "Email"
        API = "api", "API"
        AGENT = "agent", "Agent"

    subject = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status, default=Status.OPEN)
    priority = models.PositiveSmallIntegerField(
        choices=Priority, default=Priority.NORMAL
    )
    channel = models.CharField(max_length=20, choices=Channel)
    team = models.ForeignKey(
        "agents.Team",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    assignee = models.ForeignKey(
        "agents.Agent",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_cases",
    )
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    first_response_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Raised by one on every change, so a form can tell that it is stale.
    version = models.PositiveIntegerField(default=1)
    # Annotated because django-stubs 6.1 cannot infer the type of a
    # ManyToManyField to a model named by a string.
    tags: models.ManyToManyField[Tag, Any] = models.ManyToManyField(
        "Tag", blank=True, related_name="cases"
    )
    # Queue position (team id, assignee id) of the case when a service locked
    # it, for cases.services._touch(). Set only on locked instances.
    _queue_before: tuple[int | None, int | None]
    # Set when this case was merged into another one; its reference then
    # redirects there.
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_cases",
    )

    # Service level targets, counted in the team's business hours by
    # cases/sla.py. Empty when no SLA policy covers the case's priority.
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    # The due time of the next target not met yet. Empty while the clock is
    # paused (pending or solved) or when no target applies; take next and
    # the queue sort on it.
    sla_due_at = models.DateTimeField(null=True, blank=True)
    # Hidden key of the contact form that opened the case, unique so that a
    # repeated submission finds this case (supportdesk.submissions).
    submission_key = models.CharField(max_length=64, unique=True, null=True, blank=True)
    sla_paused_at = models.DateTimeField(null=True, blank=True)
    # Business minutes spent paused so far; both due times move by this much.
    sla_paused_minutes = models.PositiveIntegerField(default=0)
    # When the escalation of each breached target ran; each target escalates
    # once.
    first_response_breached_at = models.DateTimeField(null=True, blank=True)
    resolution_breached_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-priority", "created_at"]
        indexes = [
            models.Index(
                fields=["status", "team", "-priority", "created_at"],
                name="cases_case_queue",
            ),
            models.Index(fields=["assignee", "status"], name="cases_case_assignee"),
            models.Index(fields=["-updated_at"], name="cases_case_updated"),
            # Take next and automatic assignment read the waiting cases in
            # this order.
            models.Index(
                fields=["sla_due_at", "-priority", "created_at", "id"],
                condition=Q(status="open", assignee__isnull=True),
                name="cases_case_waiting",
            ),
            models.Index(
                fields=["team", "sla_due_at"],
                condition=Q(sla_due_at__isnull=False),
                name="cases_case_sla_due",
            ),
            # The queue's default sort, most urgent first: PostgreSQL reads it
            # in order and stops after one page instead of sorting every
            # visible case.
            models.Index(
                fields=["sla_due_at", "-priority", "created_at", "id"],
                name="cases_case_urgency",
            ),
            models.Index(fields=["created_at", "id"], name="cases_case_created"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    @property
    def reference(self) -> str:
        return format_case_reference(self.pk)

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.status]


def format_case_reference(pk: int | None) -> str:
    return f"C-{pk:06d}" if pk else "C-new"


def parse_case_reference(reference: str) -> int | None:
    """Return the case id in ``C-000123`` (any case, zeros optional), or None."""
    text = reference.strip().upper()
    if not text.startswith("C-") or not text[2:].isdigit():
        return None
    return int(text[2:]) or None


class Tag(models.Model):
    """A label on cases, such as "damaged" or "vip", unique ignoring case."""

    name = models.CharField(max_length=50)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="cases_tag_name_unique",
                violation_error_message="A tag with this name exists.",
            )
        ]

    def __str__(self) -> str:
        return self.name


class SlaPolicy(models.Model):
    """Response and resolution targets for cases of one priority.

    Targets are business minutes of the case's team calendar (every minute
    counts for a team without business hours). The clock pauses while the
    case waits on the customer and after it is solved.
    """

    priority = models.PositiveSmallIntegerField(
        choices=SupportCase.Priority, unique=True
    )
    first_response_minutes = models.PositiveIntegerField(
        help_text="Business minutes from opening to the first reply."
    )
    resolution_minutes = models.PositiveIntegerField(
        help_text="Business minutes from opening to the case being solved."
    )

    class Meta:
        ordering = ["-priority"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(first_response_minutes__gt=0) & Q(resolution_minutes__gt=0),
                name="cases_sla_targets_positive",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_priority_display()} priority"


class SavedView(models.Model):
    """An agent's named set of queue filters."""

    agent = models.ForeignKey(
        "agents.Agent", on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(max_length=60)
    # The queue's query string, such as "view=mine&priority=4".
    query = models.CharField(max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "name"],
                name="cases_savedview_unique_name",
                violation_error_message="You already have a view with this name.",
            )
        ]

    def __str__(self) -> str:
        return self.name


class CaseMerge(models.Model):
    """A duplicate case joined into another one, with what moved, for undo."""

    source = models.ForeignKey(
        SupportCase, on_delete=models.PROTECT, related_name="merges_out"
    )
    target = models.ForeignKey(
        SupportCase, on_delete=models.PROTECT, related_name="merges_in"
    )
    merged_at = models.DateTimeField(default=timezone.now)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The source's status before the merge closed it.
    source_status = models.CharField(max_length=10, choices=SupportCase.Status)
    source_assignee = models.ForeignKey(
        "agents.Agent",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    message_ids = models.JSONField(default=list)
    # Tags the target gained from the source.
    added_tag_ids = models.JSONField(default=list)
    moved_refund = models.BooleanField(default=False)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-merged_at", "-id"]
        indexes = [
            models.Index(fields=["target", "undone_at"], name="cases_merge_target")
        ]

    def __str__(self) -> str:
        return f"{self.source.reference} into {self.target.reference}"


class CaseSearchVector(models.Model):
    """The PostgreSQL full-text document of a case, kept by cases/search.py.

    SQLite keeps the same documents in the FTS5 table cases_search_fts,
    created by a migration, so this table exists only on PostgreSQL.
    """

    case = models.OneToOneField(
        SupportCase, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    document = SearchVectorField()

    class Meta:
        required_db_vendor = "postgresql"
        indexes = [GinIndex(fields=["document"], name="cases_search_document")]

    def __str__(self) -> str:
        return f"Search document of {format_case_reference(self.case_id)}"


class CaseMessage(models.Model):
    """One entry in a case's thread."""

    class Kind(models.TextChoices):
        CUSTOMER = "customer", "Customer message"
        REPLY = "reply", "Agent reply"
        NOTE = "note", "Internal note"

    case = models.ForeignKey(
        SupportCase, on_delete=models.CASCADE, related_name="messages"
    )
    kind = models.CharField(max_length=10, choices=Kind)
    author_agent = models.ForeignKey(
        "agents.Agent",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    author_name = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    # Hidden key of the customer's message form, unique so that a repeated
    # submission finds this message (supportdesk.submissions).
    submission_key = models.CharField(max_length=64, unique=True, null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"], name="cases_msg_thread")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.case.reference}"

    @property
    def is_public(self) -> bool:
        return self.kind != self.Kind.NOTE


class AuditEvent(models.Model):
    """One change of state, with who made it, when and why. Never edited."""

    class ActorKind(models.TextChoices):
        AGENT = "agent", "Agent"
        CUSTOMER = "customer", "Customer"
        SYSTEM = "system", "System"
        INTEGRATION = "integration", "Integration"

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Dotted past tense, such as "refunds.refund.approved".
    action = models.CharField(max_length=64)
    actor_kind = models.CharField(max_length=12, choices=ActorKind)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The actor's name when the event happened, kept if the user is deleted.
    actor_name = models.CharField(max_length=200, blank=True)
    case = models.ForeignKey(
        SupportCase,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
    )
    target_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+"
    )
    target_id = models.CharField(max_length=64)
    reason = models.TextField(blank=True)
    # Changed fields as {"field": [old, new]}, plus other facts of the event.
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [
            models.Index(
                fields=["target_type", "target_id", "occurred_at"],
                name="cases_event_target",
            ),
            models.Index(fields=["case", "occurred_at"], name="cases_event_case"),
            models.Index(fields=["action", "occurred_at"], name="cases_event_action"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_name or self.actor_kind}"


# Models of the email channel, macros and surveys live beside their code;
# importing them here registers them with the cases app.
from cases.macros.models import Macro  # noqa: E402, F401
from cases.mail.models import EmailAttachment, InboundEmail, OutboundEmail  # noqa: E402, F401
from cases.surveys.models import SatisfactionSurvey  # noqa: E402, F401
