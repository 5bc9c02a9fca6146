"""Writing parsed exports: re-imports, conflicts, customers and stored text."""

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from cases import order_import
from cases.audit import Actor
from cases.models import Customer, Order, OrderLine
from cases.order_import import (
    ExportsInvalid,
    ImportConflict,
    exports_import,
    orders_import,
)
from cases.shopify_export import parse_export
from cases.tests.test_shopify_export import THREE_MUGS
from conftest import EXPORT_HEADER, export_row, import_export
from refunds.selectors import order_for_customer
from refunds.services import refund_request_create

pytestmark = pytest.mark.django_db


def header() -> str:
    return EXPORT_HEADER + "\n"


def order_rows(number: str = "#1", **values: str) -> str:
    """Return one order of two lines, Mug 10.00 and Cup 5.00, as export rows."""
    first = {
        "name": number,
        "email": "pat.tester@example.com",
        "financial_status": "paid",
        "currency": "USD",
        "total": "15.00",
        "created_at": "2026-01-05 10:00:00 +0000",
        "lineitem_quantity": "1",
        "lineitem_name": "Mug",
        "lineitem_price": "10.00",
        "id": "1001",
        **values,
    }
    second = {
        "name": number,
        "lineitem_quantity": "1",
        "lineitem_name": "Cup",
        "lineitem_price": "5.00",
    }
    return export_row(**first) + "\n" + export_row(**second) + "\n"


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode())
    return path


# Re-imports


def test_continuation_rows_import_once():
    first = import_export(THREE_MUGS)

    second = import_export(THREE_MUGS)

    order = Order.objects.get()
    assert (first.orders_created, first.lines_created) == (1, 3)
    assert list(order.lines.values_list("quantity", flat=True)) == [1, 2, 1]
    assert sum(order.lines.values_list("total_minor", flat=True)) == 4400
    assert (second.orders_unchanged, second.lines_created) == (1, 0)
    assert OrderLine.objects.count() == 3


def test_reimport_updates_changed_fields():
    with time_machine.travel(datetime(2026, 1, 6, tzinfo=UTC), tick=False):
        import_export(header() + order_rows())
    with time_machine.travel(datetime(2026, 1, 9, tzinfo=UTC), tick=False):
        summary = import_export(
            header() + order_rows(financial_status="refunded", refunded_amount="15.00")
        )

    order = Order.objects.get()
    assert (summary.orders_updated, summary.orders_created) == (1, 0)
    assert order.financial_status == "refunded"
    assert order.shop_refunded_minor == 1500
    assert order.updated_at == datetime(2026, 1, 9, tzinfo=UTC)
    assert Order.objects.count() == 1


def test_reimport_updates_lines_and_removes_dropped_ones():
    import_export(header() + order_rows())
    changed = header() + export_row(
        name="#1",
        email="pat.tester@example.com",
        financial_status="paid",
        currency="USD",
        total="20.00",
        created_at="2026-01-05 10:00:00 +0000",
        lineitem_quantity="2",
        lineitem_name="Mug",
        lineitem_price="10.00",
        id="1001",
    )

    summary = import_export(changed + "\n")

    assert (summary.lines_updated, summary.lines_removed) == (1, 1)
    assert list(OrderLine.objects.values_list("name", "quantity")) == [("Mug", 2)]


def test_customer_created_once_and_updated():
    import_export(header() + order_rows(billing_name="Pat Tester"))

    summary = import_export(
        header()
        + order_rows(billing_name="Pat Tester")
        + order_rows(
            "#2",
            billing_name="Patricia Tester",
            created_at="2026-02-01 10:00:00 +0000",
            id="1002",
        )
    )

    customer = Customer.objects.get()
    assert (summary.customers_created, summary.customers_updated) == (0, 1)
    assert customer.name == "Patricia Tester"
    assert customer.orders.count() == 2


def test_newest_order_names_customer_across_batches(monkeypatch):
    monkeypatch.setattr(order_import, "BATCH_SIZE", 1)
    newest_first = order_rows(
        "#2", billing_name="New Name", created_at="2026-02-01 10:00:00 +0000", id="2"
    ) + order_rows("#1", billing_name="Old Name", id="1")

    summary = import_export(header() + newest_first)

    assert Customer.objects.get().name == "New Name"
    assert (summary.customers_created, summary.customers_updated) == (1, 0)


def test_customer_by_phone_without_email():
    import_export(
        "Name,Financial Status,Lineitem quantity,Lineitem name,Lineitem price,"
        "Billing Phone\n#1,paid,1,Mug,1.00,'+1 455-000-0011\n"
    )

    customer = Customer.objects.get()
    assert customer.key == "phone:14550000011"
    assert customer.phone == "+1 455-000-0011"


def test_summary_counts_orders_lines_customers():
    summary = import_export(header() + order_rows("#1") + order_rows("#2", id="2"))

    assert summary.orders_created == 2
    assert summary.lines_created == 4
    assert summary.customers_created == 1
    assert summary.orders == 2


# Stored values


@pytest.mark.parametrize("ending", ["\r\n", "\r", "\n"], ids=["crlf", "cr", "lf"])
def test_line_endings_do_not_break_lookup(ending):
    text = (
        "Name,Financial Status,Lineitem quantity,Lineitem name,Lineitem price,Email\n"
        "#1008,paid,1,Mug,12.00,jo.tester@example.com\n"
    ).replace("\n", ending)

    import_export(text.encode())

    order = Order.objects.get()
    assert order.email == "jo.tester@example.com"
    assert order_for_customer("#1008", "jo.tester@example.com") == order
    assert order_for_customer("1008", "JO.Tester@example.com") == order


def test_refunded_amount_leaves_rest_refundable():
    import_export(
        header()
        + order_rows(
            total="50.00",
            financial_status="partially_refunded",
            refunded_amount="20.00",
            lineitem_price="45.00",
        )
    )

    order = Order.objects.get()
    assert order.paid_minor == 5000
    assert order.external_refunded_minor == 2000
    assert order.refundable_minor == 3000


TEXTS = {
    "billing_name": "রহিম উদ্দিন",  # Bengali
    "lineitem_name": "Gift Box ✨🎀 – Powder\u00a0(Preorder) 👨\u200d👩\u200d👧",
    "tags": "Remboursement demandé — colis abîmé, ×2",
}


def test_text_is_stored_byte_for_byte():
    shipping = "\u2060Zamalek/Heliopolis"
    city = "القاهرة ١٢"  # Arabic with Arabic-Indic digits
    text = (
        "Name,Financial Status,Lineitem quantity,Lineitem name,Lineitem price,"
        "Billing Name,Tags,Shipping Method,Shipping City,Notes,Email\n"
        f"#1,paid,1,{TEXTS['lineitem_name']},1.00,{TEXTS['billing_name']},"
        f'"{TEXTS["tags"]}",{shipping},{city},"e\u0301 NFD stays NFD",r@example.com\n'
    )

    import_export(text)

    order = Order.objects.get()
    line = order.lines.get()
    assert line.name.encode() == TEXTS["lineitem_name"].encode()
    assert order.customer_name.encode() == TEXTS["billing_name"].encode()
    assert order.tags.encode() == TEXTS["tags"].encode()
    assert order.shipping_method.encode() == shipping.encode()
    assert order.shipping_city.encode() == city.encode()
    assert order.notes == "e\u0301 NFD stays NFD"
    assert Customer.objects.get().name == TEXTS["billing_name"]


# Conflicts: nothing is written


def test_another_shops_order_by_id():
    import_export(header() + order_rows(id="1001"))

    with pytest.raises(ImportConflict) as caught:
        import_export(header() + order_rows(id="9999", total="15.00"))

    assert [str(error) for error in caught.value.errors] == [
        "test.csv, record 1 (line 2), column 'Id': Order #1 is stored with shop id "
        "1001 but the file has 9999. Is this another shop's export?"
    ]
    assert Order.objects.get().shop_order_id == "1001"


def test_order_without_shop_id_is_updated():
    import_export(header() + order_rows(id=""))

    summary = import_export(
        header() + order_rows(id="", created_at="2025-05-05 09:00:00 +0100")
    )

    assert summary.orders_updated == 1
    assert Order.objects.count() == 1


def test_same_shop_id_with_moved_time_updates():
    import_export(header() + order_rows(id="1001"))

    summary = import_export(
        header() + order_rows(id="1001", created_at="2026-03-01 10:00:00 +0000")
    )

    assert summary.orders_updated == 1
    assert Order.objects.get().placed_at == datetime(2026, 3, 1, 10, tzinfo=UTC)


def test_conflict_in_later_batch_writes_nothing(monkeypatch):
    monkeypatch.setattr(order_import, "BATCH_SIZE", 2)
    import_export(header() + order_rows("#5", id="5"))
    rows = "".join(order_rows(f"#{number}", id=str(number)) for number in range(1, 5))

    with pytest.raises(ImportConflict):
        import_export(header() + rows + order_rows("#5", id="55"))

    assert list(Order.objects.values_list("number", flat=True)) == ["#5"]
    assert Customer.objects.count() == 1


@time_machine.travel(datetime(2026, 1, 10, tzinfo=UTC))
def test_line_held_by_refund_cannot_shrink(policy, refunds_team):
    import_export(header() + order_rows(lineitem_quantity="2", total="25.00"))
    mug = OrderLine.objects.get(name="Mug")
    refund_request_create(
        order=Order.objects.get(),
        selection={mug.pk: 2},
        reason_code="damaged",
        reason_text="",
        actor=Actor.customer(),
    )

    with pytest.raises(ImportConflict) as caught:
        import_export(header() + order_rows(lineitem_quantity="1", total="15.00"))

    assert [str(error) for error in caught.value.errors] == [
        "test.csv, record 1 (line 2), column 'Lineitem quantity': Order #1, line 1: "
        "refund requests hold 2 unit(s) worth $20.00, but the file now has 1 "
        "unit(s) worth $10.00."
    ]
    assert OrderLine.objects.get(pk=mug.pk).quantity == 2


@time_machine.travel(datetime(2026, 1, 10, tzinfo=UTC))
def test_line_held_by_refund_cannot_vanish(policy, refunds_team):
    import_export(header() + order_rows())
    cup = OrderLine.objects.get(name="Cup")
    refund_request_create(
        order=Order.objects.get(),
        selection={cup.pk: 1},
        reason_code="damaged",
        reason_text="",
        actor=Actor.customer(),
    )
    only_mug = header() + export_row(
        name="#1",
        email="pat.tester@example.com",
        financial_status="paid",
        currency="USD",
        total="10.00",
        created_at="2026-01-05 10:00:00 +0000",
        lineitem_quantity="1",
        lineitem_name="Mug",
        lineitem_price="10.00",
        id="1001",
    )

    with pytest.raises(ImportConflict) as caught:
        import_export(only_mug + "\n")

    assert [str(error) for error in caught.value.errors] == [
        "test.csv, record 1 (line 2), column 'Lineitem name': Order #1: line 2 "
        "(Cup) has refund requests but is missing from the file."
    ]
    assert OrderLine.objects.filter(pk=cup.pk).exists()


def test_order_given_twice_is_a_programming_error():
    orders = parse_export(
        io.BytesIO(THREE_MUGS.encode()),
        source="a.csv",
        default_currency="USD",
        time_zone="UTC",
    )

    with pytest.raises(ValueError, match="Order #1007 is given twice"):
        orders_import(orders + orders)

    assert Order.objects.count() == 0


def test_progress_counts_orders():
    orders = parse_export(
        io.BytesIO((header() + order_rows("#1") + order_rows("#2", id="2")).encode()),
        source="a.csv",
        default_currency="USD",
        time_zone="UTC",
    )
    written: list[int] = []

    orders_import(orders, progress=written.append)

    assert written == [2]


# Several files in one run


def test_order_in_two_files_is_taken_from_the_last(tmp_path):
    first = write(tmp_path / "a.csv", header() + order_rows("#1") + order_rows("#2"))
    second = write(
        tmp_path / "b.csv",
        header() + order_rows("#2", financial_status="refunded", refunded_amount="15"),
    )

    summary = exports_import([first, second], default_currency="USD", time_zone="UTC")

    assert (summary.orders_created, summary.orders_updated) == (2, 0)
    assert summary.orders_in_several_files == 1
    assert Order.objects.get(number="#2").financial_status == "refunded"
    assert Order.objects.get(number="#1").financial_status == "paid"
    assert OrderLine.objects.count() == 4


def test_two_shops_in_one_run_import_nothing(tmp_path):
    first = write(tmp_path / "a.csv", header() + order_rows("#1", id="1001"))
    second = write(
        tmp_path / "b.csv", header() + order_rows("#7") + order_rows("#1", id="2002")
    )

    with pytest.raises(ExportsInvalid) as caught:
        exports_import([first, second], default_currency="USD", time_zone="UTC")

    [failure] = caught.value.failures
    assert failure.source == str(second)
    assert [str(error) for error in failure.errors] == [
        f"record 3 (line 4), column 'Id': Order #1 is also in {first} (record 1) "
        "with shop id 1001, not 2002. Are these exports of two different shops? "
        "Import them separately, into separate Supportdesk installations."
    ]
    assert Order.objects.count() == 0


def test_error_in_any_file_imports_nothing(tmp_path):
    good = write(tmp_path / "good.csv", header() + order_rows("#1"))
    bad = write(tmp_path / "bad.csv", header() + order_rows("#2", total="abc"))

    with pytest.raises(ExportsInvalid) as caught:
        exports_import([good, bad], default_currency="USD", time_zone="UTC")

    assert [failure.source for failure in caught.value.failures] == [str(bad)]
    assert Order.objects.count() == 0
    assert Customer.objects.count() == 0


def test_stacked_discount_codes_are_stored():
    import_export(header() + order_rows(discount_code="A + B", tags="vip, ×2"))

    row = Order.objects.values("discount_codes", "tags", "total_minor").get()

    assert row == {"discount_codes": "A + B", "tags": "vip, ×2", "total_minor": 1500}
