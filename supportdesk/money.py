"""Exact money: integer minor units with each currency's own exponent.

Amounts are stored and added as ``int`` counts of the currency's minor unit
(cents for EUR, yen for JPY, fils for KWD). Decimal appears only at the edges,
when reading a file or a form and when showing an amount. Floats never appear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from functools import cache

from babel.numbers import format_currency, get_currency_precision, list_currencies

from supportdesk.errors import DomainError


class InvalidAmount(DomainError):
    """An amount that cannot be read, or has more decimals than its currency."""


class UnknownCurrency(DomainError):
    """A currency code that is not an ISO 4217 code known to Babel."""


@cache
def currency_exponent(currency: str) -> int:
    """Return the number of decimals of ``currency`` (0 for JPY, 3 for KWD)."""
    if currency not in _known_currencies():
        raise UnknownCurrency(
            f"Unknown currency code {currency!r}. Use an ISO 4217 code such as EUR."
        )
    return get_currency_precision(currency)


@cache
def _known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


# Amounts are kept below 10**15 minor units: far above any order, and far
# below the limit of the 64-bit integer columns that store them.
MAX_MINOR_DIGITS = 15


def to_minor(amount: Decimal | str | int, currency: str) -> int:
    """Convert a decimal amount to minor units, without rounding.

    Raises InvalidAmount when the amount is not a number, is 10**15 minor
    units or more, or has more significant decimals than the currency allows
    (``"1.005"`` in EUR), because rounding here would silently change money.
    Raises TypeError for a float, whose binary value is not the decimal one.
    """
    if isinstance(amount, float | bool):
        raise TypeError(
            f"Amounts must be Decimal, str or int, not {type(amount).__name__}."
        )
    exponent = currency_exponent(currency)
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    except InvalidOperation:
        raise InvalidAmount(f"{amount!r} is not an amount.") from None
    if not value.is_finite():
        raise InvalidAmount(f"{amount!r} is not a finite amount.")
    # Compare exponents before scaling, which overflows on values like 1e999999.
    if value and value.adjusted() + exponent >= MAX_MINOR_DIGITS:
        raise InvalidAmount(f"{amount} {currency} is too large to be an amount.")
    if value and value.adjusted() + exponent < 0:
        scaled = None  # smaller than one minor unit
    else:
        scaled = value.scaleb(exponent)
    if scaled is None or scaled != scaled.to_integral_value():
        raise InvalidAmount(
            f"{amount} has more than {exponent} decimals, which {currency} does not "
            "allow."
        )
    return int(scaled)


def limit_to_minor(limit: Decimal | str | int, currency: str) -> int:
    """Convert a configured limit to minor units, dropping extra decimals.

    Limits are stored with 3 decimals for every currency, so a limit of
    99.995 USD allows up to 99.99 and a limit of 1000.5 JPY up to 1000.
    """
    if isinstance(limit, float | bool):
        raise TypeError(
            f"Limits must be Decimal, str or int, not {type(limit).__name__}."
        )
    exponent = currency_exponent(currency)
    value = Decimal(limit).quantize(Decimal(1).scaleb(-exponent), ROUND_DOWN)
    return to_minor(value, currency)


def from_minor(minor: int, currency: str) -> Decimal:
    """Return ``minor`` units of ``currency`` as a Decimal with its exponent."""
    exponent = currency_exponent(currency)
    return Decimal(minor).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))


_COMMA_DECIMAL = re.compile(r"^-?\d+,\d{1,2}$")
# Digits with an optional dot. Decimal also accepts exponents, NaN and
# Infinity, which people do not type as an amount.
_PLAIN_DECIMAL = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)$")
# More integer digits than this cannot be a refund and would overflow the
# decimal context when formatted.
MAX_INTEGER_DIGITS = 15


def parse_amount(text: str, currency: str) -> int:
    """Parse an amount typed by a person and return it in minor units.

    A dot is the decimal separator. A comma is read as one only when it is
    followed by one or two digits (``6,95``), because ``1,000`` could mean a
    thousand. Anything else raises InvalidAmount with the fix.
    """
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "")
    if _COMMA_DECIMAL.match(cleaned):
        cleaned = cleaned.replace(",", ".")
    if "," in cleaned:
        raise InvalidAmount(
            f"{text!r} is ambiguous. Write the amount with a dot as the decimal "
            "separator and no thousands separator, for example 1000.50."
        )
    if not _PLAIN_DECIMAL.match(cleaned):
        raise InvalidAmount(
            f"{text!r} is not an amount. Write digits with a dot as the decimal "
            "separator, for example 6.95."
        )
    value = Decimal(cleaned)
    if value.adjusted() >= MAX_INTEGER_DIGITS:
        raise InvalidAmount(
            f"{text!r} is too large. Enter at most {MAX_INTEGER_DIGITS} digits "
            "before the decimal separator."
        )
    return to_minor(value, currency)


def allocate(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` minor units in proportion to ``weights``.

    Uses the largest remainder method: every share is rounded down, and the
    units left over go to the shares with the largest remainders, earlier
    positions first on ties. The shares always sum to exactly ``total``. With
    all weights zero, the total is split as evenly as possible.
    """
    if not weights:
        if total:
            raise ValueError("Cannot allocate a non-zero total over no weights.")
        return []
    if any(weight < 0 for weight in weights):
        raise ValueError("Allocation weights must not be negative.")
    weight_sum = sum(weights)
    if weight_sum == 0:
        weights = [1] * len(weights)
        weight_sum = len(weights)
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    shares = []
    remainders = []
    for index, weight in enumerate(weights):
        share, remainder = divmod(magnitude * weight, weight_sum)
        shares.append(share)
        remainders.append((-remainder, index))
    leftover = magnitude - sum(shares)
    for _, index in sorted(remainders)[:leftover]:
        shares[index] += 1
    return [sign * share for share in shares]


def unit_share(line_total: int, quantity: int, already: int, count: int) -> int:
    """Return the part of ``line_total`` that ``count`` units of a line are worth.

    ``already`` units were taken before. The cumulative value of the first
    ``k`` units is ``ceil(line_total * k / quantity)``, so any split of the
    units into separate refunds sums to exactly ``line_total``. Earlier units
    take the extra minor unit and the last one takes what is left: 1.58 over
    three units gives 0.53, 0.53 and 0.52.
    """
    if quantity <= 0:
        raise ValueError("A line must have a positive quantity.")
    if already < 0 or count < 0 or already + count > quantity:
        raise ValueError(
            f"Cannot take {count} units after {already} of a line of {quantity}."
        )
    return _cumulative(line_total, quantity, already + count) - _cumulative(
        line_total, quantity, already
    )


def _cumulative(line_total: int, quantity: int, units: int) -> int:
    return -((-line_total * units) // quantity)


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor units with its currency."""

    minor: int
    currency: str

    @classmethod
    def of(cls, amount: Decimal | str, currency: str) -> Money:
        return cls(to_minor(amount, currency), currency)

    @property
    def amount(self) -> Decimal:
        return from_minor(self.minor, self.currency)

    def format(self, locale: str = "en") -> str:
        """Return the amount with its currency sign, such as $125.40 or ¥1,200."""
        return format_currency(self.amount, self.currency, locale=locale)

    def __str__(self) -> str:
        return self.format()
