"""The shop's refund policy."""

from __future__ import annotations

import zoneinfo
from decimal import Decimal
from functools import cache

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from supportdesk.money import (
    InvalidAmount,
    UnknownCurrency,
    currency_exponent,
    to_minor,
)

DEFAULT_RETURN_INSTRUCTIONS = (
    "Keep the items for now. You do not need to send anything back unless we "
    "ask you to. We usually decide within two working days and email you the "
    "decision."
)
# Fields that hold an amount in the policy's currency.
AMOUNT_FIELDS = ("auto_approve_limit", "supervisor_threshold")


@cache
def _iana_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    """Reject a name that is not in the IANA time zone database."""
    if value and value not in _iana_time_zones():
        raise ValidationError(
            f"{value!r} is not an IANA time zone. Use a name such as Europe/Paris.",
            code="invalid_time_zone",
        )


def validate_currency(value: str) -> None:
    """Reject a code that is not ISO 4217. clean() upper-cases the code."""
    try:
        currency_exponent(value.strip().upper())
    except UnknownCurrency as exc:
        raise ValidationError(exc.message, code="unknown_currency") from None


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
        validators=[validate_time_zone],
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
        validators=[validate_currency],
        help_text="ISO 4217 code, such as USD, of the amounts below. Requests in "
        "another currency always need a supervisor.",
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
    return_instructions = models.TextField(
        "What the customer does with the items",
        blank=True,
        default=DEFAULT_RETURN_INSTRUCTIONS,
        help_text="Plain text shown on the request's status page and in the "
        "email that confirms it, while the request awaits a decision. Say "
        "whether to keep or send back the items, and when to expect a "
        "decision. Empty shows nothing.",
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

    def clean(self) -> None:
        """Upper-case the currency and check the amounts against it.

        Runs after the field validators, so an invalid currency or amount has
        its own message already and is skipped here.
        """
        self.currency = self.currency.strip().upper()
        errors = {}
        for name in AMOUNT_FIELDS:
            message = self._amount_error(getattr(self, name))
            if message:
                errors[name] = message
        limit, threshold = self.auto_approve_limit, self.supervisor_threshold
        if (
            "auto_approve_limit" not in errors
            and isinstance(limit, Decimal)
            and isinstance(threshold, Decimal)
            and limit > threshold
        ):
            errors["auto_approve_limit"] = (
                f"The automatic approval limit ({limit.normalize():f}) must be at "
                f"most the supervisor threshold ({threshold.normalize():f})."
            )
        if errors:
            raise ValidationError(errors)

    def _amount_error(self, amount) -> str | None:
        if not isinstance(amount, Decimal):
            return None
        try:
            to_minor(amount.normalize(), self.currency)
        except UnknownCurrency:
            return None
        except InvalidAmount as exc:
            return exc.message
        return None

    def configuration_errors(self) -> list[str]:
        """Return what is wrong with the stored values, without a query.

        A policy saved through the admin has none. Values saved before those
        checks existed, or written around them, can still be wrong.
        """
        problems = []
        try:
            validate_time_zone(self.time_zone)
        except ValidationError as exc:
            problems.extend(exc.messages)
        if self.currency != self.currency.strip().upper():
            problems.append(f"The currency {self.currency!r} is not in capitals.")
        try:
            validate_currency(self.currency)
        except ValidationError as exc:
            problems.extend(exc.messages)
        return problems

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
