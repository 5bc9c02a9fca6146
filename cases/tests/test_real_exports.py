"""Every real, anonymized shop export imports with the right orders and totals."""

import csv
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from django.db.models import Sum

from cases.models import Order, OrderLine
from cases.shopify_export import order_number_key
from conftest import import_export
from supportdesk.money import to_minor

EXPORTS = Path(__file__).resolve().parents[2] / "tests" / "data" / "real-shopify"
# File, orders, currency: the counts stated by the data set's README.
REAL_EXPORTS = [
    ("uk-tiktok-dresses.csv", 60, "GBP"),
    ("pt-jetski-rentals.csv", 137, "EUR"),
    ("us-loungewear-2022.csv", 409, "USD"),
    ("in-jhumka-payu.csv", 50, "INR"),
    ("eg-health-grocer.csv", 6, "EGP"),
    ("za-baby-gear.csv", 50, "ZAR"),
    ("bd-cod-skincare.csv", 50, "BDT"),
    ("us-tees-2020.csv", 159, "USD"),
]


def file_totals(path: Path) -> dict[str, Decimal]:
    """Return each order's Total as the file states it, read with the csv module."""
    totals: dict[str, Decimal] = {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            if row["Financial Status"]:
                totals[row["Name"]] = Decimal(row["Total"])
    return totals


def file_line_counts(path: Path) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            counts[row["Name"]] += 1
    return counts


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "orders", "currency"), REAL_EXPORTS)
def test_real_export_imports_every_order(name, orders, currency):
    path = EXPORTS / name

    summary = import_export(path.read_text(encoding="utf-8-sig"))

    assert summary.orders_created == orders
    assert Order.objects.count() == orders
    assert set(Order.objects.values_list("currency", flat=True)) == {currency}
    assert OrderLine.objects.count() == sum(file_line_counts(path).values())


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "orders", "currency"), REAL_EXPORTS)
def test_real_export_totals_match_file(name, orders, currency):
    path = EXPORTS / name
    import_export(path.read_text(encoding="utf-8-sig"))

    for number, total in file_totals(path).items():
        order = Order.objects.get(number_key=order_number_key(number))
        lines = order.lines.aggregate(total=Sum("total_minor"))["total"]
        assert order.total_minor == to_minor(total, currency), number
        assert lines + order.shipping_minor + order.duties_minor == order.total_minor, (
            number
        )


@pytest.mark.django_db
def test_real_export_second_import_changes_nothing():
    text = (EXPORTS / "us-loungewear-2022.csv").read_text(encoding="utf-8-sig")
    import_export(text)

    summary = import_export(text)

    assert summary.orders_created == 0
    assert summary.orders_updated == 0
    assert summary.orders_unchanged == 409
    assert summary.lines_created == 0
    assert Order.objects.count() == 409
