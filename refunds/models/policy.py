"""The shop's refund policy."""

from __future__ import annotations

import zoneinfo
from decimal import Decimal
from functools import cache

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.text import capfirst

from supportdesk.errors import DomainError
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
# Fields whose stored value the eligibility rules use, so a bad one makes
# the policy misconfigured.
CHECKED_FIELDS = (
    "time_zone",
    "currency",
    "return_window_days",
    "abuse_period_days",
    "abuse_max_refunds",
    "abuse_max_ratio",
    *AMOUNT_FIELDS,
)
# Ten years: far above any real return window, and far below the dates that
# Python's datetime can still represent.
MAX_PERIOD_DAYS = 3650
MAX_REFUND_COUNT = 1000
# ISO 4217 codes in the X range that are not money: precious metals, fund
# and bond-market units, the testing code and "no currency". XAF, XCD, XCG,
# XOF and XPF are real currencies and are not listed.
NON_MONEY_CURRENCIES = frozenset(
    {
        "XAG",
        "XAU",
        "XBA",
        "XBB",
        "XBC",
        "XBD",
        "XDR",
        "XPD",
        "XPT",
        "XSU",
        "XTS",
        "XUA",
        "XXX",
    }
)


class PolicyMisconfigured(DomainError):
    """The stored refund policy has a value that the rules cannot use."""

    status_code = 503
    code = "policy_misconfigured"

    def __init__(self) -> None:
        super().__init__(
            "Refunds are unavailable for the moment because the shop's refund "
            "policy is misconfigured. Try again later, or write to us through "
            "the contact form."
        )


@cache
def _place_time_zones() -> frozenset[str]:
    """Return the IANA names of places (Area/Location) and UTC.

    Leaves out names such as Factory (a tzdata placeholder), localtime (the
    host's setting) and legacy abbreviations such as EST.
    """
    names = {
        name
        for name in zoneinfo.available_timezones()
        if "/" in name and name != "Etc/Unknown"
    }
    return frozenset(names | {"UTC"})


def validate_time_zone(value: str) -> None:
    """Reject a name that is not a place's IANA time zone or UTC."""
    if not value or value in _place_time_zones():
        return
    if value in zoneinfo.available_timezones():
        raise ValidationError(
            f"{value!r} is not the time zone of a place. Use an Area/Location "
            "name such as Europe/Paris, or UTC.",
            code="invalid_time_zone",
        )
    raise ValidationError(
        f"{value!r} is not an IANA time zone. Use a name such as Europe/Paris.",
        code="invalid_time_zone",
    )


def validate_currency(value: str) -> None:
    """Reject a code that is not an ISO 4217 currency. clean() upper-cases it."""
    code = value.strip().upper()
    try:
        currency_exponent(code)
    except UnknownCurrency as exc:
        raise ValidationError(exc.message, code="unknown_currency") from None
    if code in NON_MONEY_CURRENCIES:
        raise ValidationError(
            f"{code} is an ISO 4217 code for something other than money, such "
            "as a precious metal, a fund unit or a test. Use the code of the "
            "shop's currency, such as EUR.",
            code="not_money",
        )


def _days_validators(label: str) -> list:
    return [
        MaxValueValidator(
            MAX_PERIOD_DAYS,
            message=f"{label} can be at most {MAX_PERIOD_DAYS} days (ten "
            "years). Enter a smaller number of days.",
        )
    ]


def _not_negative(label: str) -> MinValueValidator:
    return MinValueValidator(0, message=f"{label} cannot be negative. Enter 0 or more.")


class RefundPolicy(models.Model):
    """The shop's rules for which refunds are allowed and who must approve them.

    Exactly one policy is active; the eligibility rules read it.
    """

    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    return_window_days = models.PositiveIntegerField(
        default=30,
        validators=_days_validators("The return window"),
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
        validators=[_not_negative("The automatic approval limit")],
        help_text="Clean requests up to this amount are approved without an "
        "agent. 0 turns automatic approval off.",
    )
    supervisor_threshold = models.DecimalField(
        max_digits=12,
        decimal_places=3,
        default=Decimal("500"),
        validators=[_not_negative("The supervisor threshold")],
        help_text="Requests above this amount need a supervisor's approval, "
        "whatever the agent's own limit.",
    )
    abuse_period_days = models.PositiveIntegerField(
        default=90,
        validators=_days_validators("The abuse period"),
        help_text="Period, in days, over which refund counts are taken.",
    )
    abuse_max_refunds = models.PositiveIntegerField(
        default=5,
        validators=[
            MaxValueValidator(
                MAX_REFUND_COUNT,
                message=f"The refund count can be at most {MAX_REFUND_COUNT}. "
                "Enter 0 to turn the check off.",
            )
        ],
        help_text="A customer with this many refund requests in the period is "
        "sent to review. 0 turns the check off.",
    )
    abuse_max_ratio = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        default=Decimal("0.50"),
        validators=[
            _not_negative("The refunded share"),
            MaxValueValidator(
                1,
                message="The refunded share is a fraction of spending, so it "
                "can be at most 1. Enter 0.50 for half, or 0 to turn the "
                "check off.",
            ),
        ],
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
        if self.currency != self.currency.strip().upper():
            problems.append(f"The currency {self.currency!r} is not in capitals.")
        labels = {
            f.name: capfirst(f.verbose_name)
            for f in self._meta.fields
            if f.name in CHECKED_FIELDS
        }
        unchecked = [f.name for f in self._meta.fields if f.name not in labels]
        try:
            self.clean_fields(exclude=unchecked)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                problems.extend(f"{labels[name]}: {message}" for message in messages)
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
