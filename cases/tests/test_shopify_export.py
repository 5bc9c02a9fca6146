"""Parsing Shopify orders exports: one test per quirk of real files.

These tests need no database, because the parser only reads. Most use small
inline CSV snippets. Quirks that the real exports carry are also checked on
those files.
"""

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cases.shopify_export import (
    MAX_REPORTED_ERRORS,
    ExportInvalid,
    ExportReader,
    ParsedOrder,
    parse_export,
)

EXPORTS = Path(__file__).resolve().parents[2] / "tests" / "data" / "real-shopify"

THREE_MUGS = (
    "Name,Email,Financial Status,Lineitem quantity,Lineitem name,Lineitem price,"
    "Lineitem sku\n"
    "#1007,ana.tester@example.com,paid,1,Blue Mug,12.00,MUG-B\n"
    "#1007,,,2,Red Mug,12.00,MUG-R\n"
    "#1007,,,1,Tea Towel,8.00,TT-1\n"
)
HEADER = (
    "Name,Email,Financial Status,Currency,Subtotal,Shipping,Taxes,Total,"
    "Discount Code,Discount Amount,Created at,Lineitem quantity,Lineitem name,"
    "Lineitem price,Lineitem taxable,Lineitem requires shipping,Refunded Amount,"
    "Outstanding Balance,Cancelled at,Id\n"
)


def parse(
    data: str | bytes, *, currency: str = "USD", time_zone: str = "UTC"
) -> list[ParsedOrder]:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return parse_export(
        io.BytesIO(raw),
        source="test.csv",
        default_currency=currency,
        time_zone=time_zone,
    )


def errors_of(data: str | bytes, **options) -> list[str]:
    with pytest.raises(ExportInvalid) as caught:
        parse(data, **options)
    return [str(error) for error in caught.value.errors]


def one(data: str | bytes, **options) -> ParsedOrder:
    orders = parse(data, **options)
    assert len(orders) == 1
    return orders[0]


def real_rows(name: str) -> list[dict[str, str]]:
    with (EXPORTS / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def real_order(name: str, number: str) -> ParsedOrder:
    with (EXPORTS / name).open("rb") as stream:
        orders = parse_export(
            stream, source=name, default_currency="USD", time_zone="UTC"
        )
    return next(order for order in orders if order.number == number)


# Encoding and line endings


def test_bom_gives_identical_result():
    without_bom = parse(THREE_MUGS)

    with_bom = parse(b"\xef\xbb\xbf" + THREE_MUGS.encode())

    assert [order.number for order in with_bom] == ["#1007"]
    assert with_bom == without_bom


@pytest.mark.parametrize("ending", ["\r\n", "\r"], ids=["crlf", "cr"])
def test_line_endings_give_identical_result(ending):
    text = (
        "Name,Financial Status,Lineitem quantity,Lineitem name,Lineitem price,Email\n"
        "#1008,paid,1,Mug,12.00,jo.tester@example.com\n"
        "#1009,paid,2,Cup,3.00,al.tester@example.com\n"
    )

    orders = parse(text.replace("\n", ending))

    assert [order.email for order in orders] == [
        "jo.tester@example.com",
        "al.tester@example.com",
    ]
    assert orders == parse(text)


def test_crlf_inside_quoted_field_becomes_newline():
    text = (
        "Name,Financial Status,Lineitem quantity,Lineitem name,Lineitem price,Notes\r\n"
        '#1,paid,1,Mug,1.00,"first\r\nsecond"\r\n'
    )

    order = one(text)

    assert order.notes == "first\nsecond"


def test_real_crlf_export_keeps_no_carriage_return():
    with (EXPORTS / "bd-cod-skincare.csv").open("rb") as stream:
        orders = parse_export(
            stream, source="bd", default_currency="USD", time_zone="UTC"
        )

    texts = [
        value
        for order in orders
        for value in (order.email, order.notes, order.note_attributes, order.tags)
    ]
    assert len(orders) == 50
    assert not [text for text in texts if "\r" in text]
    assert sum("\n" in order.note_attributes for order in orders) == 49


# Records and rows


def test_quoted_commas_and_newlines_stay_in_one_record():
    text = (
        "Name,Financial Status,Shipping Company,Shipping Address1,Notes,"
        "Lineitem quantity,Lineitem name,Lineitem price,Email\n"
        '#1010,paid,"Acme, Inc.","Flat 2, 10 High St","Leave at door\n'
        'Ring twice",1,Lamp,30.00,lee.tester@example.com\n'
        "#1011,paid,,,,2,Bulb,4.00,kim.tester@example.com\n"
    )

    first, second = parse(text)

    assert len(first.lines) == 1
    assert first.notes == "Leave at door\nRing twice"
    assert first.lines[0].unit_price_minor == 3000
    assert first.email == "lee.tester@example.com"
    assert (second.number, second.record, second.line) == ("#1011", 2, 4)
    assert second.lines[0].quantity == 2


def test_continuation_rows_become_lines():
    order = one(THREE_MUGS)

    assert [line.quantity for line in order.lines] == [1, 2, 1]
    assert [line.sku for line in order.lines] == ["MUG-B", "MUG-R", "TT-1"]
    assert [line.position for line in order.lines] == [1, 2, 3]
    assert sum(line.total_minor for line in order.lines) == 4400
    assert order.total_minor == 4400


def test_blank_records_are_skipped():
    text = THREE_MUGS.replace("\n#1007,,,2", "\n,,,,,,\n\n#1007,,,2")

    order = one(text)

    assert len(order.lines) == 3


def test_reader_yields_orders_before_the_file_ends():
    rows = "".join(
        f"#{number},paid,1,Mug,1.00,{'x' * 200}\n" for number in range(1, 2001)
    )
    data = io.BytesIO(
        f"Name,Financial Status,Lineitem quantity,Lineitem name,Lineitem price,Notes\n"
        f"{rows}".encode()
    )
    reader = ExportReader(
        data, source="big.csv", default_currency="USD", time_zone="UTC"
    )

    first = next(iter(reader))

    assert first.number == "#1"
    assert data.tell() < len(data.getvalue()) // 4


def test_progress_reports_every_byte():
    read: list[int] = []
    data = THREE_MUGS.encode()

    parse_export(
        io.BytesIO(data),
        source="test.csv",
        default_currency="USD",
        time_zone="UTC",
        progress=read.append,
    )

    assert sum(read) == len(data)


# Column sets


def test_minimal_column_set_uses_defaults():
    order = one(THREE_MUGS, currency="EUR")

    assert order.currency == "EUR"
    assert order.placed_at is None
    assert order.shipping_minor == 0
    assert order.subtotal_minor is None
    assert order.financial_status == "paid"


@pytest.mark.parametrize(
    ("name", "columns", "missing"),
    [
        ("us-tees-2020.csv", 72, "Duties"),
        ("za-baby-gear.csv", 75, "Payment References"),
        ("us-loungewear-2022.csv", 73, "Outstanding Balance"),
    ],
)
def test_older_column_sets_parse(name, columns, missing):
    header = next(csv.reader((EXPORTS / name).open(encoding="utf-8")))
    order_count = len({row["Name"] for row in real_rows(name)})

    with (EXPORTS / name).open("rb") as stream:
        orders = parse_export(
            stream, source=name, default_currency="USD", time_zone="UTC"
        )

    assert len(header) == columns
    assert missing not in header
    assert len(orders) == order_count


def test_header_names_ignore_case_and_spaces():
    text = THREE_MUGS.replace("Financial Status", " financial status ")

    order = one(text)

    assert order.financial_status == "paid"


# Currencies


def test_jpy_has_no_decimals():
    text = HEADER + (
        "#1,a@example.com,paid,JPY,2400,500,0,2900,,0,2026-01-05 10:00:00 +0900,"
        "2,Teapot,1200,true,true,0,0,,1\n"
    )

    order = one(text)

    assert order.currency == "JPY"
    assert order.lines[0].unit_price_minor == 1200
    assert order.lines[0].total_minor == 2400
    assert order.shipping_minor == 500
    assert order.total_minor == 2900


def test_jpy_accepts_zero_decimals_written_out():
    text = HEADER + (
        "#1,a@example.com,paid,JPY,2400.00,0.00,0.00,2400.00,,0.00,,"
        "2,Teapot,1200.00,true,true,0.00,0.00,,1\n"
    )

    assert one(text).total_minor == 2400


def test_jpy_rejects_fractional_yen():
    text = HEADER + "#1,,paid,JPY,,,,,,,,1,Teapot,1200.50,,,,,,\n"

    assert errors_of(text) == [
        "record 1 (line 2), column 'Lineitem price': 1200.50 has more than 0 "
        "decimals, which JPY does not allow."
    ]


def test_kwd_has_three_decimals():
    text = HEADER + (
        "#1,a@example.com,paid,KWD,3.750,1.250,0.000,5.000,,0.000,,"
        "3,Dates,1.250,true,true,0.000,0.000,,1\n"
    )

    order = one(text)

    assert order.lines[0].unit_price_minor == 1250
    assert order.lines[0].total_minor == 3750
    assert order.shipping_minor == 1250
    assert order.total_minor == 5000


def test_kwd_rejects_four_decimals():
    text = HEADER + "#1,,paid,KWD,,,,,,,,1,Dates,1.2505,,,,,,\n"

    assert errors_of(text) == [
        "record 1 (line 2), column 'Lineitem price': 1.2505 has more than 3 "
        "decimals, which KWD does not allow."
    ]


# Time stamps


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-03-10 00:30:00 +0100", datetime(2026, 3, 9, 23, 30, tzinfo=UTC)),
        ("2026-07-07 09:48:27 +0530", datetime(2026, 7, 7, 4, 18, 27, tzinfo=UTC)),
        ("2022-01-11 04:32:30 -0500", datetime(2022, 1, 11, 9, 32, 30, tzinfo=UTC)),
        ("2026-03-10T00:30:00+01:00", datetime(2026, 3, 9, 23, 30, tzinfo=UTC)),
    ],
)
def test_timestamp_offsets_are_kept(text, utc):
    order = one(
        THREE_MUGS.replace("Lineitem sku\n", "Lineitem sku,Created at\n", 1).replace(
            "MUG-B\n", f"MUG-B,{text}\n"
        )
    )

    assert order.placed_at == utc
    assert order.placed_at.utcoffset() is not None


def test_timestamp_without_offset_uses_time_zone():
    text = THREE_MUGS.replace("Lineitem sku\n", "Lineitem sku,Created at\n", 1).replace(
        "MUG-B\n", "MUG-B,2026-03-10 00:30:00\n"
    )

    order = one(text, time_zone="Europe/Paris")

    assert order.placed_at == datetime(2026, 3, 9, 23, 30, tzinfo=UTC)


# Discounts


def test_order_discount_shared_by_value():
    text = HEADER + (
        "#1002,a@example.com,paid,USD,,0.00,0.00,168.00,SAVE20,42.00,,"
        "1,Jacket,150.00,true,true,0.00,,,\n"
        "#1002,,,,,,,,,,,1,Scarf,60.00,true,true,,,,\n"
    )

    jacket, scarf = one(text).lines

    assert jacket.total_minor == 12000
    assert scarf.total_minor == 4800
    assert jacket.discount_minor == 3000
    assert scarf.discount_minor == 1200


def test_free_shipping_discount_stays_on_shipping():
    text = HEADER + (
        "#1323,a@example.com,paid,USD,93.00,15.00,0.00,93.00,FREESHIP,15.00,,"
        "1,Leila Pants,93.00,true,true,0.00,,,\n"
    )

    order = one(text)

    assert order.lines[0].total_minor == 9300
    assert order.lines[0].discount_minor == 0
    assert order.shipping_minor == 0


def test_real_free_shipping_order_keeps_item_value():
    order = real_order("us-loungewear-2022.csv", "#1323")

    assert order.discount_codes == "FREESHIP"
    assert order.lines[0].total_minor == 9300
    assert order.shipping_minor == 0
    assert order.total_minor == 9300


def test_stacked_discount_codes_are_kept():
    rows = real_rows("us-loungewear-2022.csv")
    stacked = next(row for row in rows if " + " in row["Discount Code"])

    order = real_order("us-loungewear-2022.csv", stacked["Name"])

    assert order.discount_codes == stacked["Discount Code"]


def test_line_discount_column_counts_once():
    text = (
        "Name,Financial Status,Discount Amount,Total,Lineitem quantity,"
        "Lineitem name,Lineitem price,Lineitem discount\n"
        "#1,paid,5.00,25.00,1,Mug,10.00,5.00\n"
        "#1,,,,2,Cup,10.00,0.00\n"
    )

    mug, cup = one(text).lines

    assert mug.total_minor == 500
    assert cup.total_minor == 2000


# Taxes


def test_taxes_added_go_to_taxable_lines():
    text = HEADER + (
        "#1,a@example.com,paid,USD,,0.00,8.00,158.00,,0.00,,"
        "1,Coat,100.00,true,true,0.00,,,\n"
        "#1,,,,,,,,,,,1,Gift wrap,50.00,false,true,,,,\n"
    )

    order = one(text)
    coat, wrap = order.lines

    assert order.taxes_included is False
    assert (coat.tax_minor, coat.total_minor) == (800, 10800)
    assert (wrap.tax_minor, wrap.total_minor) == (0, 5000)


def test_taxes_included_stay_in_prices():
    text = HEADER + (
        "#1,a@example.com,paid,EUR,123.00,0.00,23.00,123.00,,0.00,,"
        "1,Jetski hour,123.00,true,false,0.00,,,\n"
    )

    order = one(text)

    assert order.taxes_included is True
    assert order.taxes_minor == 2300
    assert order.lines[0].tax_minor == 0
    assert order.lines[0].total_minor == 12300


def test_three_stickers_with_rounded_tax():
    text = HEADER + (
        "#1001,a@example.com,paid,USD,1.50,0.00,0.08,1.58,,0.00,,"
        "3,Sticker,0.50,true,true,0.00,,,\n"
    )

    sticker = one(text).lines[0]

    assert sticker.tax_minor == 8
    assert sticker.total_minor == 158


# Refunds, cancellations, balances


def test_refunded_amount_is_read():
    text = HEADER + (
        "#1006,a@example.com,partially_refunded,USD,50.00,0.00,0.00,50.00,,0.00,,"
        "2,Shirt,25.00,true,true,20.00,0.00,,\n"
    )

    order = one(text)

    assert order.shop_refunded_minor == 2000
    assert order.paid_minor == 5000


def test_cancelled_order_keeps_its_cancellation():
    text = HEADER + (
        "#1,a@example.com,refunded,USD,,0.00,0.00,10.00,,0.00,,"
        "1,Mug,10.00,true,true,10.00,0.00,2026-01-02 10:00:00 +0000,\n"
    )

    order = one(text)

    assert order.cancelled_at == datetime(2026, 1, 2, 10, tzinfo=UTC)
    assert order.shop_refunded_minor == 1000


@pytest.mark.parametrize(
    ("status", "outstanding", "paid"),
    [
        ("paid", "-0.01", 5000),
        ("paid", "0.03", 4997),
        ("partially_paid", "20.00", 3000),
        ("pending", "50.00", 0),
        ("voided", "50.00", 0),
        ("authorized", "0.00", 0),
    ],
)
def test_outstanding_balance_sets_paid(status, outstanding, paid):
    text = HEADER + (
        f"#1,a@example.com,{status},USD,,0.00,0.00,50.00,,0.00,,"
        f"1,Mug,50.00,true,true,0.00,{outstanding},,\n"
    )

    order = one(text)

    assert order.outstanding_minor == int(outstanding.replace(".", ""))
    assert order.paid_minor == paid


# Gift cards and tips


def test_gift_card_lines_are_marked():
    text = HEADER + (
        "#1,a@example.com,paid,USD,,0.00,0.00,120.00,,0.00,,"
        "1,DIGITAL GIFT CARD - $100,100.00,false,false,0.00,,,\n"
        "#1,,,,,,,,,,,1,Gift card holder,20.00,true,true,,,,\n"
    )

    card, holder = one(text).lines

    assert card.is_gift_card is True
    assert holder.is_gift_card is False


def test_real_gift_cards_are_marked():
    loungewear = real_order("us-loungewear-2022.csv", "#1065")
    baby_gear = real_order("za-baby-gear.csv", "#13562")

    assert [line.is_gift_card for line in loungewear.lines] == [True]
    assert [line.is_gift_card for line in baby_gear.lines] == [True]


def test_tip_takes_no_discount():
    text = HEADER + (
        "#1,a@example.com,paid,USD,20.00,0.00,0.00,25.00,TEN,5.00,,"
        "1,Tip,5.00,false,false,0.00,,,\n"
        "#1,,,,,,,,,,,1,Tee,25.00,false,true,,,,\n"
    )

    tip, tee = one(text).lines

    assert tip.is_tip is True
    assert tip.total_minor == 500
    assert tee.total_minor == 2000


def test_real_tip_line_with_free_shipping():
    order = real_order("us-tees-2020.csv", "#811074")
    tip, tee = order.lines

    assert (tip.name, tip.is_tip, tip.total_minor) == ("Tip", True, 200)
    assert tee.total_minor == 2500
    assert order.shipping_minor == 0
    assert order.total_minor == 2700


# Text from many scripts


@pytest.mark.parametrize(
    ("name", "column", "marker"),
    [
        ("eg-health-grocer.csv", "Shipping Method", "\u2060"),
        ("eg-health-grocer.csv", "Lineitem name", "\u00a0"),
        ("eg-health-grocer.csv", "Shipping City", "\u0627"),  # Arabic alef
        ("in-jhumka-payu.csv", "Lineitem name", "\U0001f380"),  # ribbon emoji
        ("in-jhumka-payu.csv", "Lineitem name", "\u2013"),  # en dash
        ("bd-cod-skincare.csv", "Billing Name", "\u09be"),  # Bengali vowel sign
        ("uk-tiktok-dresses.csv", "Lineitem name", "\u2019"),  # curly apostrophe
        ("za-baby-gear.csv", "Vendor", "\u00e4"),
    ],
)
def test_real_text_is_kept_exactly(name, column, marker):
    rows = real_rows(name)
    row = next(row for row in rows if marker in row[column])
    expected = row[column].strip()
    attribute = {
        "Shipping Method": lambda order: order.shipping_method,
        "Shipping City": lambda order: order.shipping_city,
        "Billing Name": lambda order: order.customer_name,
        "Lineitem name": lambda order: [line.name for line in order.lines],
        "Vendor": lambda order: [line.vendor for line in order.lines],
    }[column]

    value = attribute(real_order(name, row["Name"]))

    if isinstance(value, list):
        assert expected in value
    else:
        assert value == expected
        assert value.encode() == expected.encode()


def test_apostrophe_prefixed_phone_is_cleaned():
    rows = real_rows("us-tees-2020.csv")
    row = next(row for row in rows if row["Billing Phone"].startswith("'+"))

    order = real_order("us-tees-2020.csv", row["Name"])

    assert row["Phone"] == ""
    assert order.phone == row["Billing Phone"][1:]


def test_non_hash_order_name_is_kept():
    order = real_order("us-loungewear-2022.csv", "J-939719")

    assert order.number_key == "j-939719"


# Broken files: nothing is returned, every error is located


def test_bad_amount_is_located():
    text = THREE_MUGS.replace("12.00,MUG-R", '"12,50",MUG-R')

    assert errors_of(text) == [
        "record 2 (line 3), column 'Lineitem price': '12,50' is not an amount. "
        "Expected digits with a dot as the decimal separator, such as 12.50."
    ]


def test_bad_date_is_located():
    text = THREE_MUGS.replace("Lineitem sku\n", "Lineitem sku,Created at\n", 1).replace(
        "MUG-B\n", "MUG-B,31/12/2026 10:00\n"
    )

    assert errors_of(text) == [
        "record 1 (line 2), column 'Created at': '31/12/2026 10:00' is not a date "
        "and time. Expected the form 2026-03-05 15:40:14 +0000."
    ]


def test_unknown_currency_is_located():
    text = HEADER + "#1,,paid,XYZ,,,,,,,,1,Mug,1.00,,,,,,\n"

    assert errors_of(text) == [
        "record 1 (line 2), column 'Currency': 'XYZ' is not an ISO 4217 currency code."
    ]


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("-1", "The quantity must be at least 1, not -1."),
        ("0", "The quantity must be at least 1, not 0."),
        ("1.5", "'1.5' is not a whole number of units."),
        ("", "The quantity is missing."),
        (
            "99999999999999999999",
            "99999999999999999999 units is too many for one line item. The "
            "maximum is 1,000,000.",
        ),
        (
            "1000001",
            "1000001 units is too many for one line item. The maximum is 1,000,000.",
        ),
        (
            "9" * 5000,
            f"{'9' * 24}… units is too many for one line item. The "
            "maximum is 1,000,000.",
        ),
    ],
)
def test_bad_quantity_is_located(quantity, message):
    text = THREE_MUGS.replace(",2,Red Mug", f",{quantity},Red Mug")

    assert errors_of(text) == [
        f"record 2 (line 3), column 'Lineitem quantity': {message}"
    ]


def test_missing_required_column():
    text = THREE_MUGS.replace(",Lineitem price", ",Price")

    assert errors_of(text) == [
        "line 1, column 'Lineitem price': Required column is missing. Export the "
        "file with the shop's 'Orders' export, which includes it."
    ]


def test_invalid_utf8_names_byte_and_column():
    data = (
        b"Name,Financial Status,Notes,Lineitem quantity,Lineitem name,Lineitem price\n"
        b'#1,paid,"two\nlines",1,Mug,1.00\n'
        b"#2,paid,,1,Caf\xe9 cup,1.00\n"
    )

    assert errors_of(data) == [
        "record 2 (line 4), column 'Lineitem name': The value has the byte 0xe9, "
        "which is not UTF-8. Export the file again from the shop, or save it as "
        "'CSV UTF-8'."
    ]


def test_utf16_file_is_rejected():
    data = THREE_MUGS.encode("utf-16")

    errors = errors_of(data)

    assert len(errors) == 1
    assert errors[0].startswith("line 1, column '#1': The value has the byte 0xff")


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\n\n"])
def test_empty_file(data):
    assert errors_of(data) == [
        "line 1: The file is empty. Export the orders again from the shop."
    ]


def test_header_without_orders():
    assert errors_of(THREE_MUGS.splitlines()[0] + "\n") == [
        "line 2: The file has a header but no orders."
    ]


def test_order_twice_in_file():
    text = THREE_MUGS + "#1007,ana.tester@example.com,paid,1,Blue Mug,12.00,MUG-B\n"

    assert errors_of(text) == [
        "record 4 (line 5), column 'Financial Status': Order #1007 already started "
        "at record 1, and a later row of an order must leave the order fields "
        "blank. Is the order in the file twice?"
    ]


def test_order_twice_apart_in_file():
    text = THREE_MUGS + (
        "#1008,ana.tester@example.com,paid,1,Jug,5.00,JUG\n"
        "#1007,ana.tester@example.com,paid,1,Blue Mug,12.00,MUG-B\n"
    )

    assert errors_of(text) == [
        "record 5 (line 6), column 'Name': Order #1007 is in the file twice: it "
        "also starts at record 1. Remove one of them."
    ]


def test_rows_of_order_apart():
    text = THREE_MUGS + (
        "#1008,ana.tester@example.com,paid,1,Jug,5.00,JUG\n#1007,,,1,Saucer,3.00,S\n"
    )

    assert errors_of(text) == [
        "record 5 (line 6), column 'Name': This row belongs to order #1007, which "
        "starts at record 1, but other orders come between them. Keep the rows of "
        "an order together, as the shop exports them."
    ]


def test_continuation_without_first_row():
    text = THREE_MUGS.replace("#1007,ana.tester@example.com,paid,1", "#1007,,,1", 1)

    assert errors_of(text) == [
        "record 1 (line 2), column 'Financial Status': 'An empty value' is not a "
        "Shopify financial status. Expected one of: authorized, expired, "
        "paid, partially_paid, partially_refunded, pending, refunded, voided."
    ]


def test_broken_quoting():
    text = THREE_MUGS + '#1008,,paid,1,"Jug,5.00,JUG\n'

    assert errors_of(text) == [
        "record 4 (line 5): The CSV quoting is broken (unexpected end of data). "
        "Export the file again."
    ]


def test_nul_byte_is_located():
    text = THREE_MUGS.replace("Tea Towel", "Tea\x00Towel")

    assert errors_of(text) == [
        "record 3 (line 4), column 'Lineitem name': The value contains a NUL byte."
    ]


def test_total_that_does_not_add_up():
    text = HEADER + (
        "#1,a@example.com,paid,USD,20.00,5.00,1.00,30.00,,0.00,,"
        "1,Mug,20.00,true,true,0.00,,,\n"
    )

    assert errors_of(text) == [
        "record 1 (line 2), column 'Total': Order #1: the Total 30.00 does not add "
        "up. The items (20.00) less the discount (0.00) plus shipping (5.00), "
        "duties (0.00) and taxes (1.00) come to 26.00. Check this order's amounts "
        "in the shop and export it again."
    ]


def test_one_cent_rounding_is_absorbed():
    text = HEADER + (
        "#1,a@example.com,paid,USD,,0.00,0.00,10.01,,0.00,,"
        "1,Mug,5.00,true,true,0.00,,,\n"
        "#1,,,,,,,,,,,1,Cup,5.00,true,true,,,,\n"
    )

    order = one(text)

    assert sum(line.total_minor for line in order.lines) == 1001


def test_every_error_is_counted_and_fifty_are_listed():
    rows = "".join(f"#{number},paid,x,Mug,1.00\n" for number in range(1, 61))
    text = (
        "Name,Financial Status,Lineitem quantity,Lineitem name,Lineitem price\n" + rows
    )

    with pytest.raises(ExportInvalid) as caught:
        parse(text)

    assert caught.value.total == 60
    assert len(caught.value.errors) == MAX_REPORTED_ERRORS
    assert str(caught.value) == "test.csv: 60 error(s), nothing imported."


def test_invalid_email_and_status():
    text = THREE_MUGS.replace("ana.tester@example.com,paid", "not-an-email,payed")

    assert errors_of(text) == [
        "record 1 (line 2), column 'Financial Status': 'payed' is not a Shopify "
        "financial status. Expected one of: authorized, expired, paid, "
        "partially_paid, partially_refunded, pending, refunded, voided.",
        "record 1 (line 2), column 'Email': 'not-an-email' is not a valid email "
        "address.",
    ]


def test_negative_amount_is_rejected():
    text = THREE_MUGS.replace("8.00,TT-1", "-8.00,TT-1")

    assert errors_of(text) == [
        "record 3 (line 4), column 'Lineitem price': The amount -8.00 is negative."
    ]


def test_huge_amount_is_rejected():
    text = THREE_MUGS.replace("8.00,TT-1", "99999999999999999.00,TT-1")

    assert errors_of(text) == [
        "record 3 (line 4), column 'Lineitem price': 99999999999999999.00 USD is "
        "too large to be an amount."
    ]
