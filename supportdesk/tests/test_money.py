from decimal import Decimal

import pytest

from supportdesk.money import (
    InvalidAmount,
    Money,
    UnknownCurrency,
    allocate,
    currency_exponent,
    from_minor,
    limit_to_minor,
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


@pytest.mark.parametrize("amount", [6.95, 0.1 + 0.2, True])
def test_to_minor_rejects_float_and_bool(amount):
    with pytest.raises(TypeError):
        to_minor(amount, "EUR")


@pytest.mark.parametrize("amount", ["abc", "", "1e999999999", "-1e20", "12,50"])
def test_to_minor_rejects_non_amounts(amount):
    with pytest.raises(InvalidAmount):
        to_minor(amount, "EUR")


def test_to_minor_keeps_largest_amount():
    assert to_minor("9999999999999.99", "USD") == 999_999_999_999_999


def test_to_minor_trailing_zeros_in_jpy_and_kwd():
    assert to_minor(Decimal("1200.000"), "JPY") == 1200
    assert to_minor(Decimal("1.2500"), "KWD") == 1250


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [("1200", "JPY", 1200), ("1.250", "KWD", 1250), ("0,5", "KWD", 500)],
)
def test_parse_amount_other_exponents(text, currency, minor):
    assert parse_amount(text, currency) == minor


@pytest.mark.parametrize(("text", "currency"), [("12.5", "JPY"), ("1.2505", "KWD")])
def test_parse_amount_rejects_extra_decimals(text, currency):
    with pytest.raises(InvalidAmount):
        parse_amount(text, currency)


def test_parse_amount_keeps_every_cent():
    """6.95 and 2.60 reach the ledger as 695 and 260, never 600 and 200."""
    assert parse_amount("6.95", "USD") + parse_amount("2.60", "USD") == 955


@pytest.mark.parametrize(
    ("limit", "currency", "minor"),
    [
        (Decimal("99.995"), "USD", 9999),
        (Decimal("500.000"), "USD", 50000),
        (Decimal("1000.500"), "JPY", 1000),
        (Decimal("1.234"), "KWD", 1234),
        (250, "USD", 25000),
        ("99.999", "JPY", 99),
    ],
)
def test_limit_to_minor_drops_extra_decimals(limit, currency, minor):
    assert limit_to_minor(limit, currency) == minor


def test_allocate_order_discount_by_line_value():
    """A 42.00 discount over a 150.00 jacket and a 60.00 scarf."""
    assert allocate(4200, [15000, 6000]) == [3000, 1200]


@pytest.mark.parametrize(
    ("total", "weights"),
    [
        (1, [1, 1, 1]),
        (8, [50, 50, 50]),
        (-5, [3, 0, 7]),
        (999_999_999, [1, 2, 3, 4, 5, 6, 7]),
        (7, [0, 5, 0]),
    ],
)
def test_allocate_always_sums_to_total(total, weights):
    shares = allocate(total, weights)

    assert sum(shares) == total
    assert len(shares) == len(weights)


def test_allocate_gives_nothing_to_zero_weights():
    assert allocate(7, [0, 5, 0]) == [0, 7, 0]


def test_allocate_rejects_bad_weights():
    with pytest.raises(ValueError):
        allocate(5, [])
    with pytest.raises(ValueError):
        allocate(5, [1, -1])


def test_allocate_nothing_over_no_weights():
    assert allocate(0, []) == []


@pytest.mark.parametrize(
    ("quantity", "already", "count"), [(0, 0, 0), (3, 2, 2), (3, -1, 1), (3, 0, -1)]
)
def test_unit_share_rejects_impossible_splits(quantity, already, count):
    with pytest.raises(ValueError):
        unit_share(158, quantity, already, count)


@pytest.mark.parametrize(
    ("total", "currency", "quantity"),
    [(1000, "JPY", 3), (1000, "KWD", 3), (1, "KWD", 2), (158, "USD", 3)],
)
def test_unit_share_in_every_exponent_sums_to_total(total, currency, quantity):
    shares = [unit_share(total, quantity, taken, 1) for taken in range(quantity)]

    assert sum(shares) == total
    assert max(shares) - min(shares) <= 1


def test_from_minor_negative_and_zero():
    assert str(from_minor(-5, "USD")) == "-0.05"
    assert str(from_minor(0, "KWD")) == "0.000"


def test_money_of_and_str():
    assert Money.of("1.250", "KWD") == Money(1250, "KWD")
    assert str(Money(158, "USD")) == "$1.58"
    assert Money(-250, "EUR").format("de") == "-2,50\xa0€"


@pytest.mark.parametrize("amount", ["1e-999999999", "0.001", "0.0000001"])
def test_to_minor_rejects_fractions_of_minor_unit(amount):
    with pytest.raises(InvalidAmount, match="has more than 2 decimals"):
        to_minor(amount, "USD")


def test_to_minor_rejects_huge_exponent():
    with pytest.raises(InvalidAmount, match="too large"):
        to_minor("1e999999999", "USD")
