"""Every real, anonymized shop export imports with the right orders and totals.

The expected figures come from the files themselves, read with the csv module
and Decimal, independently of the importer, and from the counts the data
set's README states.
"""

import csv
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest
from django.db.models import Count, Sum

from cases.models import Order
from cases.shopify_export import CAPTURED_STATUSES, ParsedOrder, parse_export
from conftest import import_export
from refunds.selectors import order_for_customer
from supportdesk.money import to_minor

EXPORTS = Path(__file__).resolve().parents[2] / "tests" / "data" / "real-shopify"


@dataclass(frozen=True)
class Expected:
    name: str
    rows: int
    orders: int
    currency: str
    columns: int
    refunded: int
    partially_refunded: int
    cancelled: int


REAL_EXPORTS = [
    Expected("uk-tiktok-dresses.csv", 61, 60, "GBP", 79, 8, 0, 8),
    Expected("pt-jetski-rentals.csv", 143, 137, "EUR", 79, 4, 1, 3),
    Expected("us-loungewear-2022.csv", 811, 409, "USD", 73, 43, 26, 20),
    Expected("in-jhumka-payu.csv", 74, 50, "INR", 79, 0, 0, 0),
    Expected("eg-health-grocer.csv", 33, 6, "EGP", 79, 0, 0, 0),
    Expected("za-baby-gear.csv", 101, 50, "ZAR", 75, 0, 0, 2),
    Expected("bd-cod-skincare.csv", 58, 50, "BDT", 79, 0, 0, 7),
    Expected("us-tees-2020.csv", 298, 159, "USD", 72, 2, 0, 1),
]
IDS = [expected.name for expected in REAL_EXPORTS]


@dataclass(frozen=True)
class FileOrder:
    """One order as the file states it, read without the importer."""

    rows: int
    currency: str
    status: str
    total: Decimal
    subtotal: Decimal
    shipping: Decimal
    discount: Decimal
    taxes: Decimal
    duties: Decimal
    refunded: Decimal
    outstanding: Decimal
    cancelled: bool

    def minor(self, amount: Decimal) -> int:
        return to_minor(amount, self.currency)


@cache
def file_header(name: str) -> tuple[str, ...]:
    with (EXPORTS / name).open(newline="", encoding="utf-8") as handle:
        return tuple(next(csv.reader(handle)))


@cache
def file_orders(name: str) -> dict[str, FileOrder]:
    with (EXPORTS / name).open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    counts = Counter(row["Name"] for row in rows)

    def amount(row: dict, column: str) -> Decimal:
        return Decimal(row.get(column) or "0")

    return {
        row["Name"]: FileOrder(
            rows=counts[row["Name"]],
            currency=row["Currency"],
            status=row["Financial Status"],
            total=amount(row, "Total"),
            subtotal=amount(row, "Subtotal"),
            shipping=amount(row, "Shipping"),
            discount=amount(row, "Discount Amount"),
            taxes=amount(row, "Taxes"),
            duties=amount(row, "Duties"),
            refunded=amount(row, "Refunded Amount"),
            outstanding=amount(row, "Outstanding Balance"),
            cancelled=bool(row["Cancelled at"]),
        )
        for row in rows
        if row["Financial Status"]
    }


@cache
def parsed_orders(name: str) -> tuple[ParsedOrder, ...]:
    with (EXPORTS / name).open("rb") as stream:
        return tuple(
            parse_export(stream, source=name, default_currency="USD", time_zone="UTC")
        )


def items_after_discounts(order: ParsedOrder) -> int:
    """Return what Shopify's Subtotal states: the items, tips left out."""
    return sum(
        line.total_minor - line.tax_minor for line in order.lines if not line.is_tip
    )


# The file as the README describes it


@pytest.mark.parametrize("expected", REAL_EXPORTS, ids=IDS)
def test_file_matches_its_description(expected):
    orders = file_orders(expected.name)
    statuses = Counter(order.status for order in orders.values())

    assert len(file_header(expected.name)) == expected.columns
    assert sum(order.rows for order in orders.values()) == expected.rows
    assert len(orders) == expected.orders
    assert statuses["refunded"] == expected.refunded
    assert statuses["partially_refunded"] == expected.partially_refunded
    assert sum(order.cancelled for order in orders.values()) == expected.cancelled


# Parsing


@pytest.mark.parametrize("expected", REAL_EXPORTS, ids=IDS)
def test_parsed_orders_and_lines_match_file(expected):
    orders = file_orders(expected.name)

    parsed = parsed_orders(expected.name)

    assert len(parsed) == expected.orders
    assert {order.number for order in parsed} == set(orders)
    assert {order.currency for order in parsed} == {expected.currency}
    for order in parsed:
        assert len(order.lines) == orders[order.number].rows, order.number


@pytest.mark.parametrize("expected", REAL_EXPORTS, ids=IDS)
def test_parsed_totals_add_up_to_minor_unit(expected):
    orders = file_orders(expected.name)

    for order in parsed_orders(expected.name):
        stated = orders[order.number]
        lines = sum(line.total_minor for line in order.lines)
        assert order.total_minor == stated.minor(stated.total), order.number
        assert lines + order.shipping_minor + order.duties_minor == order.total_minor, (
            order.number
        )
        assert all(line.total_minor >= 0 for line in order.lines), order.number


@pytest.mark.parametrize("expected", REAL_EXPORTS, ids=IDS)
def test_parsed_discounts_and_taxes_match_file(expected):
    orders = file_orders(expected.name)

    for order in parsed_orders(expected.name):
        stated = orders[order.number]
        line_discounts = sum(line.discount_minor for line in order.lines)
        shipping_discount = stated.minor(stated.shipping) - order.shipping_minor
        line_taxes = sum(line.tax_minor for line in order.lines)
        assert line_discounts + shipping_discount == stated.minor(stated.discount), (
            order.number
        )
        assert order.taxes_minor == stated.minor(stated.taxes), order.number
        assert items_after_discounts(order) == stated.minor(stated.subtotal), (
            order.number
        )
        assert line_taxes == (0 if order.taxes_included else order.taxes_minor), (
            order.number
        )


@pytest.mark.parametrize("expected", REAL_EXPORTS, ids=IDS)
def test_parsed_payments_and_refunds_match_file(expected):
    orders = file_orders(expected.name)

    for order in parsed_orders(expected.name):
        stated = orders[order.number]
        captured = stated.total - max(Decimal(0), stated.outstanding)
        paid = captured if stated.status in CAPTURED_STATUSES else Decimal(0)
        assert order.paid_minor == stated.minor(paid), order.number
        assert order.shop_refunded_minor == stated.minor(stated.refunded), order.number
        assert (order.cancelled_at is not None) == stated.cancelled, order.number


# Importing


@pytest.mark.django_db
@pytest.mark.parametrize("expected", REAL_EXPORTS, ids=IDS)
def test_real_export_imports_and_reimports(expected):
    data = (EXPORTS / expected.name).read_bytes()
    orders = file_orders(expected.name)

    first = import_export(data)
    second = import_export(data)

    assert first.orders_created == expected.orders
    assert first.lines_created == expected.rows
    assert second.orders_unchanged == expected.orders
    assert (second.orders_created, second.orders_updated) == (0, 0)
    assert (second.lines_created, second.lines_updated) == (0, 0)
    stored = Order.objects.annotate(
        line_count=Count("lines"), line_total=Sum("lines__total_minor")
    )
    assert len(stored) == expected.orders
    for order in stored:
        stated = orders[order.number]
        assert order.currency == expected.currency, order.number
        assert order.line_count == stated.rows, order.number
        assert order.total_minor == stated.minor(stated.total), order.number
        assert (
            order.line_total + order.shipping_minor + order.duties_minor
            == order.total_minor
        ), order.number


@pytest.mark.django_db
def test_real_crlf_export_stores_no_carriage_return():
    import_export((EXPORTS / "bd-cod-skincare.csv").read_bytes())

    texts = Order.objects.values_list("email", "notes", "note_attributes", "tags")

    assert len(texts) == 50
    assert not [value for row in texts for value in row if "\r" in value]


@pytest.mark.django_db
def test_real_orders_are_found_by_number_and_email():
    import_export((EXPORTS / "us-loungewear-2022.csv").read_bytes())
    import_export((EXPORTS / "in-jhumka-payu.csv").read_bytes())
    wholesale = Order.objects.get(number="J-939719")
    upper_case = Order.objects.filter(email__regex=r"^[A-Z0-9]+@").first()

    assert order_for_customer("j-939719", wholesale.email.upper()) == wholesale
    assert upper_case is not None
    assert upper_case.email_key == upper_case.email.lower()
    assert order_for_customer(upper_case.number, upper_case.email_key) == upper_case


@pytest.mark.django_db
def test_real_export_customers_group_orders():
    import_export((EXPORTS / "us-loungewear-2022.csv").read_bytes())
    per_email: dict[str, int] = defaultdict(int)
    for email in Order.objects.exclude(email_key="").values_list(
        "email_key", flat=True
    ):
        per_email[email] += 1

    repeat = Order.objects.filter(
        email_key__in=[email for email, count in per_email.items() if count > 1]
    )

    assert repeat.exists()
    assert all(order.customer.orders.count() > 1 for order in repeat)
