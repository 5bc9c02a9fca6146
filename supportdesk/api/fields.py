"""Serializer fields for money and for text typed by people."""

from __future__ import annotations

import unicodedata
from decimal import Decimal, InvalidOperation

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from supportdesk.text import NotOneLine, clean_single_line

# Amounts above this are rejected before any conversion: no order comes close.
MAX_AMOUNT = Decimal("1e12")
AMOUNT_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "pattern": AMOUNT_PATTERN, "example": "6.95"},
            {"type": "number", "example": 6.95},
        ]
    }
)
class AmountField(serializers.Field):
    """A decimal amount, sent as a string ("6.95") or a JSON number (6.95).

    The API's JSON parser reads numbers as Decimal, so neither form passes
    through float. The currency comes from the object the amount belongs to,
    and the service converts the amount to minor units, rejecting extra
    decimals. Amounts are written as strings.
    """

    default_error_messages = {
        "invalid": 'Enter an amount such as "6.95", with a dot as the decimal '
        "separator.",
        "too_large": "The amount is too large.",
    }

    def to_internal_value(self, data) -> Decimal:
        if isinstance(data, bool) or not isinstance(data, (str, int, Decimal)):
            self.fail("invalid")
        if isinstance(data, str):
            if len(data) > 32:
                self.fail("invalid")
            try:
                value = Decimal(data.strip())
            except InvalidOperation:
                self.fail("invalid")
        else:
            value = Decimal(data)
        if not value.is_finite():
            self.fail("invalid")
        if abs(value) >= MAX_AMOUNT:
            self.fail("too_large")
        return value

    def to_representation(self, value) -> str:
        return str(value)


class TextField(serializers.CharField):
    """A CharField that stores text in Unicode normalization form NFC.

    DRF's CharField already rejects NUL characters and lone surrogates, which
    PostgreSQL cannot store.
    """

    def to_internal_value(self, data) -> str:
        text = super().to_internal_value(data)
        return unicodedata.normalize("NFC", text)


class SingleLineTextField(TextField):
    """A TextField for one line, such as a name or a subject.

    A line break is invalid. Explicit bidi controls and other control
    characters are dropped, and a value left empty counts as blank.
    """

    def to_internal_value(self, data) -> str:
        text = super().to_internal_value(data)
        try:
            noun = (self.field_name or "value").replace("_", " ")
            cleaned = clean_single_line(text, field=noun)
        except NotOneLine as exc:
            raise serializers.ValidationError(exc.message, code=exc.code) from None
        # DRF checks for a blank value before this method, so a value made
        # only of removed characters is checked here.
        if not cleaned and not self.allow_blank:
            self.fail("blank")
        return cleaned
