"""Parse a Shopify orders export (one row per line item) into orders.

Handles files as shops really produce them: UTF-8 with or without a byte
order mark; LF, CRLF or CR line endings; quoted fields holding commas and line
breaks; continuation rows that repeat only the order name; the full column set
or an older subset; currencies with 0, 2 or 3 decimals; time stamps with UTC
offsets. Parsing never writes. Every problem is collected with its record,
line and column, so one run reports them all.
"""

from __future__ import annotations

import csv
import io
import re
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import IO

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from supportdesk.errors import DomainError
from supportdesk.money import InvalidAmount, UnknownCurrency, allocate, to_minor

REQUIRED_COLUMNS = (
    "Name",
    "Financial Status",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
)

FINANCIAL_STATUSES = {
    "pending",
    "authorized",
    "partially_paid",
    "paid",
    "partially_refunded",
    "refunded",
    "voided",
    "expired",
}
# Statuses under which the shop captured the customer's money.
CAPTURED_STATUSES = {"paid", "partially_paid", "partially_refunded", "refunded"}
FULFILLMENT_STATUSES = {"unfulfilled", "partial", "fulfilled", "restocked"}

MAX_REPORTED_ERRORS = 50
_GIFT_CARD_NAME = re.compile(r"gift\s*(card|voucher|certificate)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in the file, located for the person who must fix it."""

    record: int  # 1-based data record, the header not counted
    line: int  # 1-based physical line where the record starts
    column: str
    message: str

    def __str__(self) -> str:
        where = (
            f"record {self.record} (line {self.line})"
            if self.record
            else f"line {self.line}"
        )
        column = f", column {self.column!r}" if self.column else ""
        return f"{where}{column}: {self.message}"


class ExportInvalid(DomainError):
    """The file has errors; nothing from it may be imported."""

    def __init__(self, source: str, errors: list[RowError], total: int | None = None):
        self.source = source
        self.errors = errors
        self.total = total if total is not None else len(errors)
        super().__init__(f"{source}: {self.total} error(s), nothing imported.")


@dataclass(slots=True)
class ParsedLine:
    position: int
    name: str
    sku: str
    vendor: str
    quantity: int
    unit_price_minor: int
    line_discount_minor: int
    requires_shipping: bool
    taxable: bool
    fulfillment_status: str
    is_gift_card: bool
    discount_minor: int = 0
    tax_minor: int = 0
    total_minor: int = 0


@dataclass(slots=True)
class ParsedOrder:
    number: str
    number_key: str
    record: int
    line: int
    shop_order_id: str = ""
    email: str = ""
    phone: str = ""
    customer_name: str = ""
    currency: str = ""
    financial_status: str = ""
    fulfillment_status: str = "unfulfilled"
    placed_at: datetime | None = None
    paid_at: datetime | None = None
    fulfilled_at: datetime | None = None
    cancelled_at: datetime | None = None
    subtotal_minor: int = 0
    discount_minor: int = 0
    discount_codes: str = ""
    shipping_minor: int = 0
    taxes_minor: int = 0
    taxes_included: bool = False
    duties_minor: int = 0
    total_minor: int | None = None
    outstanding_minor: int = 0
    shop_refunded_minor: int = 0
    tags: str = ""
    source: str = ""
    payment_method: str = ""
    shipping_method: str = ""
    shipping_country: str = ""
    shipping_city: str = ""
    notes: str = ""
    note_attributes: str = ""
    lines: list[ParsedLine] = field(default_factory=list)

    @property
    def paid_minor(self) -> int:
        """Return the money captured from the customer.

        Orders marked paid (or refunded since) were paid in full. Their
        Outstanding Balance is at times a cent off either way, a rounding
        artefact of the payment gateway that the shop itself ignores.
        """
        total = self.total_minor or 0
        if self.financial_status == "partially_paid":
            return max(0, total - max(0, self.outstanding_minor))
        if self.financial_status in CAPTURED_STATUSES:
            return total
        return 0

    @property
    def email_key(self) -> str:
        return self.email.lower()


def order_number_key(number: str) -> str:
    """Return the lookup key of an order name: trimmed, lower case, no leading #."""
    return number.strip().lstrip("#").strip().lower()


def parse_export(
    stream: IO[bytes],
    *,
    source: str,
    default_currency: str,
    time_zone: str,
    progress: callable | None = None,
) -> list[ParsedOrder]:
    """Read a whole export and return its orders, or raise ExportInvalid."""
    parser = _ExportParser(source, default_currency, zoneinfo.ZoneInfo(time_zone))
    return parser.parse(stream, progress)


class _ExportParser:
    def __init__(self, source: str, default_currency: str, tz: zoneinfo.ZoneInfo):
        self.source = source
        self.default_currency = default_currency
        self.tz = tz
        self.errors: list[RowError] = []
        self.error_count = 0
        self.record = 0
        self.line = 0

    # Error collection

    def error(self, column: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(self.record, self.line, column, message))

    # Reading

    def parse(self, stream: IO[bytes], progress) -> list[ParsedOrder]:
        text = self._decode(stream.read())
        if text is None:
            raise ExportInvalid(self.source, self.errors, self.error_count)
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        try:
            header = next(reader)
        except StopIteration:
            self.line = 1
            self.error("", "The file is empty. Export the orders again from the shop.")
            raise ExportInvalid(self.source, self.errors, self.error_count) from None
        columns = self._read_header(header)
        if columns is None:
            raise ExportInvalid(self.source, self.errors, self.error_count)

        orders: dict[str, ParsedOrder] = {}
        for row in self._records(reader):
            self._read_row(row, columns, orders)
            if progress is not None:
                progress(1)
        if not orders and not self.error_count:
            self.line = 2
            self.error("", "The file has a header but no orders.")
        for order in orders.values():
            self._finish_order(order)
        if self.error_count:
            raise ExportInvalid(self.source, self.errors, self.error_count)
        return list(orders.values())

    def _decode(self, data: bytes) -> str | None:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            self.line = data.count(b"\n", 0, exc.start) + 1
            self.error(
                "",
                f"The file is not UTF-8 (byte 0x{data[exc.start]:02x} at offset "
                f"{exc.start}). Export it again from the shop, or save it as "
                "'CSV UTF-8'.",
            )
            return None
        if "\x00" in text:
            self.line = text.count("\n", 0, text.index("\x00")) + 1
            self.error("", "The file contains NUL bytes, so it is not a CSV export.")
            return None
        return text

    def _records(self, reader) -> Iterator[list[str]]:
        previous_line = reader.line_num
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                self.record += 1
                self.line = previous_line + 1
                self.error(
                    "", f"The CSV quoting is broken ({exc}). Export the file again."
                )
                return
            self.record += 1
            self.line = previous_line + 1
            previous_line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            yield row

    def _read_header(self, header: list[str]) -> dict[str, int] | None:
        self.line = 1
        columns: dict[str, int] = {}
        for index, raw in enumerate(header):
            name = raw.strip().lstrip("\ufeff").strip()
            folded = name.casefold()
            if folded in columns and name:
                self.error(name, "This column appears twice in the header.")
            columns[folded] = index
        missing = [name for name in REQUIRED_COLUMNS if name.casefold() not in columns]
        for name in missing:
            self.error(
                name,
                "Required column is missing. Export with the 'Orders' export of the "
                "shop, which includes it.",
            )
        if missing or self.error_count:
            return None
        return columns

    # Rows

    def _read_row(
        self, row: list[str], columns: dict[str, int], orders: dict[str, ParsedOrder]
    ) -> None:
        def cell(name: str) -> str:
            index = columns.get(name.casefold())
            if index is None or index >= len(row):
                return ""
            return row[index].strip()

        number = cell("Name")
        if not number:
            self.error(
                "Name", "The order name is empty. Every row needs its order's name."
            )
            return
        if len(number) > 64:
            self.error("Name", "The order name is longer than 64 characters.")
            return
        key = order_number_key(number)
        order = orders.get(key)
        if order is None:
            order = ParsedOrder(
                number=number, number_key=key, record=self.record, line=self.line
            )
            orders[key] = order
            self._read_order_fields(order, cell, columns)
        elif cell("Financial Status"):
            self.error(
                "Financial Status",
                f"Order {number} already started at record {order.record}; a "
                "continuation row must leave the order fields blank. Is the order "
                "in the file twice?",
            )
            return
        self._read_line(order, cell)

    def _read_order_fields(self, order: ParsedOrder, cell, columns) -> None:
        status = cell("Financial Status").lower()
        if status not in FINANCIAL_STATUSES:
            self.error(
                "Financial Status",
                f"{status or 'An empty value'!r} is not a Shopify financial status. "
                f"Expected one of: {', '.join(sorted(FINANCIAL_STATUSES))}.",
            )
        order.financial_status = status

        fulfillment = cell("Fulfillment Status").lower() or "unfulfilled"
        if fulfillment not in FULFILLMENT_STATUSES:
            self.error(
                "Fulfillment Status",
                f"{fulfillment!r} is not a Shopify fulfillment status. Expected one "
                f"of: {', '.join(sorted(FULFILLMENT_STATUSES))}.",
            )
        order.fulfillment_status = fulfillment

        currency = cell("Currency").upper() or self.default_currency
        try:
            to_minor(0, currency)
        except UnknownCurrency:
            self.error("Currency", f"{currency!r} is not an ISO 4217 currency code.")
            currency = ""
        order.currency = currency

        email = cell("Email")
        if email:
            try:
                validate_email(email)
            except ValidationError:
                self.error("Email", f"{email!r} is not a valid email address.")
        order.email = email
        order.phone = cell("Phone") or cell("Billing Phone") or cell("Shipping Phone")
        order.phone = order.phone.lstrip("'")
        order.customer_name = cell("Billing Name") or cell("Shipping Name")
        order.shop_order_id = cell("Id")

        order.placed_at = self._timestamp(cell, "Created at")
        order.paid_at = self._timestamp(cell, "Paid at")
        order.fulfilled_at = self._timestamp(cell, "Fulfilled at")
        order.cancelled_at = self._timestamp(cell, "Cancelled at")

        if currency:
            order.subtotal_minor = self._amount(cell, "Subtotal", currency)
            order.shipping_minor = self._amount(cell, "Shipping", currency)
            order.taxes_minor = self._amount(cell, "Taxes", currency)
            order.discount_minor = self._amount(cell, "Discount Amount", currency)
            order.duties_minor = self._amount(cell, "Duties", currency)
            order.outstanding_minor = self._amount(
                cell, "Outstanding Balance", currency, signed=True
            )
            order.shop_refunded_minor = self._amount(cell, "Refunded Amount", currency)
            if cell("Total"):
                order.total_minor = self._amount(cell, "Total", currency)

        order.discount_codes = cell("Discount Code")[:500]
        order.tags = cell("Tags")[:1000]
        order.source = cell("Source")[:100]
        order.payment_method = cell("Payment Method")[:200]
        order.shipping_method = cell("Shipping Method").lstrip("\u2060")[:200]
        order.shipping_country = cell("Shipping Country")[:100]
        order.shipping_city = cell("Shipping City")[:100]
        order.notes = _normalise_newlines(cell("Notes"))
        order.note_attributes = _normalise_newlines(cell("Note Attributes"))

    def _read_line(self, order: ParsedOrder, cell) -> None:
        name = cell("Lineitem name")
        if not name:
            self.error("Lineitem name", "The line item has no name.")
        quantity_text = cell("Lineitem quantity")
        quantity = 0
        try:
            quantity = int(quantity_text)
        except ValueError:
            self.error(
                "Lineitem quantity",
                f"{quantity_text!r} is not a whole number of units.",
            )
        else:
            if quantity <= 0:
                self.error(
                    "Lineitem quantity",
                    f"The quantity must be at least 1, not {quantity}.",
                )
        currency = order.currency
        price = (
            self._amount(cell, "Lineitem price", currency, required=True)
            if currency
            else 0
        )
        line_discount = (
            self._amount(cell, "Lineitem discount", currency) if currency else 0
        )
        requires_shipping = self._boolean(
            cell, "Lineitem requires shipping", default=True
        )
        order.lines.append(
            ParsedLine(
                position=len(order.lines) + 1,
                name=name[:500],
                sku=cell("Lineitem sku")[:200],
                vendor=cell("Vendor")[:200],
                quantity=quantity,
                unit_price_minor=price,
                line_discount_minor=line_discount,
                requires_shipping=requires_shipping,
                taxable=self._boolean(cell, "Lineitem taxable", default=True),
                fulfillment_status=cell("Lineitem fulfillment status").lower()[:20],
                is_gift_card=not requires_shipping
                and bool(_GIFT_CARD_NAME.search(name)),
            )
        )

    # Values

    def _amount(
        self,
        cell,
        column: str,
        currency: str,
        *,
        required: bool = False,
        signed: bool = False,
    ) -> int:
        text = cell(column)
        if not text:
            if required:
                self.error(column, "The amount is missing.")
            return 0
        try:
            value = Decimal(text)
        except InvalidOperation:
            self.error(
                column, f"{text!r} is not an amount. Expected digits such as 12.50."
            )
            return 0
        if value < 0 and not signed:
            self.error(column, f"The amount {text} is negative.")
            return 0
        try:
            return to_minor(value, currency)
        except InvalidAmount as exc:
            self.error(column, exc.message)
            return 0

    def _timestamp(self, cell, column: str) -> datetime | None:
        text = cell(column)
        if not text:
            return None
        for pattern in ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S"):
            try:
                value = datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
        else:
            try:
                value = datetime.fromisoformat(text)
            except ValueError:
                self.error(
                    column,
                    f"{text!r} is not a date and time. Expected the form "
                    "2026-03-05 15:40:14 +0000.",
                )
                return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=self.tz)
        return value

    def _boolean(self, cell, column: str, *, default: bool) -> bool:
        text = cell(column).lower()
        if not text:
            return default
        if text in {"true", "yes", "1"}:
            return True
        if text in {"false", "no", "0"}:
            return False
        self.error(column, f"{text!r} is not true or false.")
        return default

    # Amounts of a whole order

    def _finish_order(self, order: ParsedOrder) -> None:
        if not order.currency or any(line.quantity <= 0 for line in order.lines):
            return
        self.record, self.line = order.record, order.line
        allocate_order_amounts(order)
        if order.total_minor is None:
            return
        line_sum = sum(line.total_minor for line in order.lines)
        if line_sum + order.shipping_minor + order.duties_minor != order.total_minor:
            self.error(
                "Total",
                f"Order {order.number}: the total {order.total_minor} (minor units) "
                "is less than its charges can explain.",
            )


def allocate_order_amounts(order: ParsedOrder) -> None:
    """Share discounts, taxes and any rounding residue out to the lines.

    Shopify's totals obey: total = sum(price × quantity) − discount amount +
    shipping + duties + taxes, where taxes are left out when the prices
    already include them. The order-level discount is shared in proportion to
    each line's value after its own discount; taxes charged on top go to the
    taxable lines in proportion to their value after discounts. Whatever the
    file's total still differs by (a shipping discount, rounding) is taken
    from shipping first and then shared over the lines, so that the lines,
    shipping and duties always sum to exactly the total.
    """
    lines = order.lines
    gross = [line.unit_price_minor * line.quantity for line in lines]
    own_discounts = [
        min(line.line_discount_minor, value)
        for line, value in zip(lines, gross, strict=True)
    ]
    after_own = [value - own for value, own in zip(gross, own_discounts, strict=True)]
    order_discount = max(0, order.discount_minor - sum(own_discounts))
    order_discount_on_lines = min(order_discount, sum(after_own))
    shared = allocate(order_discount_on_lines, after_own)
    nets = [value - share for value, share in zip(after_own, shared, strict=True)]
    for line, own, share in zip(lines, own_discounts, shared, strict=True):
        line.discount_minor = own + share

    goods = sum(nets)
    charges_without_tax = goods + order.shipping_minor + order.duties_minor
    if order.total_minor is None:
        order.taxes_included = False
        order.total_minor = charges_without_tax + order.taxes_minor
    order.taxes_included = (
        order.taxes_minor > 0 and order.total_minor == charges_without_tax
    )
    added_tax = 0 if order.taxes_included else order.taxes_minor
    tax_weights = [
        net if line.taxable else 0 for line, net in zip(lines, nets, strict=True)
    ]
    if not any(tax_weights):
        tax_weights = nets
    taxes = allocate(added_tax, tax_weights)
    for line, net, tax in zip(lines, nets, taxes, strict=True):
        line.tax_minor = tax
        line.total_minor = net + tax

    residue = order.total_minor - (
        goods + added_tax + order.shipping_minor + order.duties_minor
    )
    if residue < 0:
        from_shipping = min(-residue, order.shipping_minor)
        order.shipping_minor -= from_shipping
        residue += from_shipping
    if residue:
        line_totals = [line.total_minor for line in lines]
        if residue < 0 and -residue > sum(line_totals):
            return  # reported by the caller, which checks the sum again
        for line, share in zip(lines, allocate(residue, line_totals), strict=True):
            line.total_minor += share
            line.discount_minor -= share


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
