from decimal import Decimal

import pytest

from supportdesk.money import (
    InvalidAmount,
    Money,
    UnknownCurrency,
    allocate,
    currency_exponent,
    from_minor,
    parse_amount,
    to_minor,
    unit_share,
)


@pytest.mark.parametrize(
    ("currency", "exponent"),
    [("JPY", 0), ("EUR", 2), ("USD", 2), ("KWD", 3), ("BHD", 3)],
)
def test_currency_exponent(currency, exponent):
    assert currency_exponent(currency) == exponent


def test_unknown_currency_rejected():
    with pytest.raises(UnknownCurrency):
        currency_exponent("XYZ")


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("12.50", "EUR", 1250),
        ("1200", "JPY", 1200),
        ("1200.00", "JPY", 1200),
        ("1.005", "KWD", 1005),
        ("0.01", "USD", 1),
    ],
)
def test_to_minor_exact(amount, currency, minor):
    assert to_minor(amount, currency) == minor


@pytest.mark.parametrize(
    ("amount", "currency"), [("1.005", "EUR"), ("12.5", "JPY"), ("0.0001", "KWD")]
)
def test_to_minor_rejects_extra_decimals(amount, currency):
    with pytest.raises(InvalidAmount):
        to_minor(amount, currency)


def test_from_minor_keeps_exponent():
    assert from_minor(1250, "EUR") == Decimal("12.50")
    assert str(from_minor(1200, "JPY")) == "1200"
    assert str(from_minor(1005, "KWD")) == "1.005"


@pytest.mark.parametrize(
    ("text", "minor"),
    [
        ("6.95", 695),
        ("6,95", 695),
        ("2.60", 260),
        (" 1000.50 ", 100050),
        ("7", 700),
        ("0,5", 50),
    ],
)
def test_parse_amount_accepts(text, minor):
    assert parse_amount(text, "EUR") == minor


@pytest.mark.parametrize(
    "text",
    [
        "1,000",
        "1.000,50",
        "abc",
        "",
        "6.955",
        "NaN",
        "Infinity",
        "1e30",
        "1E2",
        "9" * 16,
        "--5",
        "1.2.3",
    ],
)
def test_parse_amount_rejects(text):
    with pytest.raises(InvalidAmount):
        parse_amount(text, "EUR")


def test_allocate_sums_exactly():
    shares = allocate(4200, [15000, 6000])

    assert shares == [3000, 1200]
    assert sum(shares) == 4200


def test_allocate_largest_remainder():
    shares = allocate(100, [1, 1, 1])

    assert shares == [34, 33, 33]


def test_allocate_zero_weights_split_evenly():
    assert allocate(5, [0, 0]) == [3, 2]


def test_allocate_negative_total():
    shares = allocate(-7, [1, 1])

    assert shares == [-4, -3]
    assert sum(shares) == -7


def test_unit_share_three_stickers():
    """Three refunds of one unit of a 1.58 line pay 0.53, 0.53 and 0.52."""
    first = unit_share(158, 3, 0, 1)
    second = unit_share(158, 3, 1, 1)
    third = unit_share(158, 3, 2, 1)

    assert (first, second, third) == (53, 53, 52)
    assert first + second + third == 158
    assert unit_share(158, 3, 0, 3) == 158


@pytest.mark.parametrize("total", [0, 1, 2, 99, 100, 158, 999_999])
@pytest.mark.parametrize("quantity", [1, 2, 3, 7])
def test_unit_share_any_split_sums_to_total(total, quantity):
    splits = [[1] * quantity, [quantity], [quantity - 1, 1] if quantity > 1 else [1]]
    for split in splits:
        taken, paid = 0, 0
        for count in split:
            paid += unit_share(total, quantity, taken, count)
            taken += count
        assert paid == total


def test_money_formats_with_symbol():
    assert Money(12540, "USD").format() == "$125.40"
    assert Money(1200, "JPY").format() == "¥1,200"
    assert Money(1005, "KWD").amount == Decimal("1.005")
