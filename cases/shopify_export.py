"""Parse a Shopify orders export (one row per line item) into orders.

Handles files as shops really produce them: UTF-8 with or without a byte
order mark; LF, CRLF or CR line endings; quoted fields holding commas and line
breaks; continuation rows that repeat only the order name; the full column set
or an older subset; currencies with 0, 2 or 3 decimals; time stamps with UTC
offsets. Parsing never writes. Every problem is collected with its record,
line and column, so one run reports them all.

``ExportReader`` streams: it yields each order once its last row is read, so
memory does not grow with the file. Shopify writes the rows of one order next
to each other; a file whose rows of one order are apart is rejected.
"""

from __future__ import annotations

import csv
import io
import re
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import IO

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from cases.order_amounts import allocate_order_amounts, total_mismatch
from supportdesk.errors import DomainError
from supportdesk.money import (
    InvalidAmount,
    UnknownCurrency,
    currency_exponent,
    to_minor,
)
from supportdesk.text import clean_single_line

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
MAX_ORDER_NAME_LENGTH = 64
# Units on one line item. Far above any real order, and low enough that the
# line's price times its quantity stays a sane amount.
MAX_LINE_QUANTITY = 1_000_000
_GIFT_CARD_NAME = re.compile(r"gift\s*(card|voucher|certificate)", re.IGNORECASE)
# Shopify's export writes plain amounts such as 1200, 12.50 or 1.250.
_AMOUNT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_QUANTITY = re.compile(r"-?[0-9]+")
# A NUL, or a byte that is not UTF-8, which surrogateescape decodes to
# U+DC80..U+DCFF.
_BAD_TEXT = re.compile("[\x00\udc80-\udcff]")

Progress = Callable[[int], object]


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in the file, located for the person who must fix it."""

    record: int  # 1-based data record, the header not counted; 0 for the header
    line: int  # 1-based physical line where the record starts
    column: str
    message: str
    file: str = ""  # the export's name, when the error is reported outside it

    def __str__(self) -> str:
        where = (
            f"record {self.record} (line {self.line})"
            if self.record
            else f"line {self.line}"
        )
        if self.file:
            where = f"{self.file}, {where}"
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
    is_tip: bool = False
    discount_minor: int = 0
    tax_minor: int = 0
    total_minor: int = 0


@dataclass(slots=True)
class ParsedOrder:
    number: str
    number_key: str
    record: int
    line: int
    file: str = ""  # the export's name, for messages
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
    # None when the file has no Subtotal for the order.
    subtotal_minor: int | None = None
    discount_minor: int = 0
    discount_codes: str = ""
    # The shipping the customer paid: the Shipping column less any shipping
    # discount, once allocate_order_amounts has run.
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

        That is the total less a positive Outstanding Balance, for the
        statuses under which the shop captured money, and 0 otherwise. A
        negative balance (the customer paid a little more) is not counted, so
        a refund never exceeds the order total.
        """
        if self.financial_status not in CAPTURED_STATUSES:
            return 0
        return max(0, (self.total_minor or 0) - max(0, self.outstanding_minor))

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
    progress: Progress | None = None,
) -> list[ParsedOrder]:
    """Read a whole export and return its orders, or raise ExportInvalid.

    Holds every order in memory; ``ExportReader`` streams instead.
    """
    reader = ExportReader(
        stream,
        source=source,
        default_currency=default_currency,
        time_zone=time_zone,
        progress=progress,
    )
    orders = list(reader)
    reader.raise_if_invalid()
    return orders


class _CountingStream(io.RawIOBase):
    """A readable byte stream that reports how many bytes were read."""

    def __init__(self, stream: IO[bytes], progress: Progress):
        self._stream = stream
        self._progress = progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._stream.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        if size:
            self._progress(size)
        return size


class ExportReader:
    """Read a Shopify orders export one order at a time.

    Iterating yields each order that has no error, once its last row is read.
    Errors are collected in ``errors``; call ``raise_if_invalid`` after the
    iteration. ``progress`` is called with the number of bytes read.
    """

    def __init__(
        self,
        stream: IO[bytes],
        *,
        source: str,
        default_currency: str,
        time_zone: str,
        progress: Progress | None = None,
    ):
        if progress is not None:
            stream = io.BufferedReader(_CountingStream(stream, progress))
        self.stream = stream
        self.source = source
        self.default_currency = default_currency
        self.tz = zoneinfo.ZoneInfo(time_zone)
        self.errors: list[RowError] = []
        self.error_count = 0
        self.record = 0
        self.line = 0
        self._header: list[str] = []

    def error(self, column: str, message: str) -> None:
        """Record an error at the current record and line."""
        self._add(RowError(self.record, self.line, column, message))

    def order_error(self, order: ParsedOrder, column: str, message: str) -> None:
        """Record an error at the first row of ``order``."""
        self._add(RowError(order.record, order.line, column, message))

    def _add(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(error)

    def invalid(self) -> ExportInvalid | None:
        if not self.error_count:
            return None
        return ExportInvalid(self.source, self.errors, self.error_count)

    def raise_if_invalid(self) -> None:
        invalid = self.invalid()
        if invalid is not None:
            raise invalid

    # Reading

    def __iter__(self) -> Iterator[ParsedOrder]:
        # surrogateescape turns each byte that is not UTF-8 into one character
        # that _BAD_TEXT finds, so the error names its record and column.
        text = io.TextIOWrapper(
            self.stream, encoding="utf-8-sig", errors="surrogateescape", newline=""
        )
        try:
            yield from self._read(csv.reader(text, strict=True))
        finally:
            text.detach()  # leave the caller's stream open

    def _read(self, reader) -> Iterator[ParsedOrder]:
        try:
            header = next(row for row in reader if any(cell.strip() for cell in row))
        except StopIteration:
            self.line = 1
            self.error("", "The file is empty. Export the orders again from the shop.")
            return
        except csv.Error as exc:
            self.line = reader.line_num
            self.error("", f"The header is not valid CSV ({exc}). Export it again.")
            return
        self.line = reader.line_num
        columns = self._read_header(header)
        if columns is None:
            return

        current: ParsedOrder | None = None
        started: dict[str, int] = {}  # order key to the record of its first row
        errors_before = 0
        for row in self._records(reader):
            number = _cell(row, columns, "Name")
            if not self._valid_name(number):
                continue
            key = order_number_key(number)
            if current is not None and key == current.number_key:
                self._read_continuation(current, row, columns)
                continue
            if key in started:
                self._reject_split_order(number, started[key], row, columns)
                continue
            if current is not None:
                yield from self._finish(current, errors_before)
            errors_before = self.error_count
            current = ParsedOrder(
                number=number,
                number_key=key,
                record=self.record,
                line=self.line,
                file=self.source,
            )
            started[key] = self.record
            self._read_order_fields(current, row, columns)
            self._read_line(current, row, columns)
        if current is not None:
            yield from self._finish(current, errors_before)
        if not started and not self.error_count:
            self.line = 2
            self.error("", "The file has a header but no orders.")

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
            if _BAD_TEXT.search("".join(row)):
                self._reject_bad_text(row)
                continue
            yield row

    def _reject_bad_text(self, row: list[str], *, in_header: bool = False) -> None:
        for index, cell in enumerate(row):
            match = _BAD_TEXT.search(cell)
            if match is None:
                continue
            if in_header or index >= len(self._header):
                column = f"#{index + 1}"
            else:
                column = self._header[index]
            character = match.group()
            if character == "\x00":
                self.error(column, "The value contains a NUL byte.")
            else:
                self.error(
                    column,
                    f"The value has the byte 0x{ord(character) - 0xDC00:02x}, which is "
                    "not UTF-8. Export the file again from the shop, or save it as "
                    "'CSV UTF-8'.",
                )
            return

    def _read_header(self, header: list[str]) -> dict[str, int] | None:
        names = [raw.strip().lstrip("\ufeff").strip() for raw in header]
        self._header = names
        if _BAD_TEXT.search("".join(names)):
            self._reject_bad_text(names, in_header=True)
            return None
        columns: dict[str, int] = {}
        for index, name in enumerate(names):
            folded = name.casefold()
            if folded in columns and name:
                self.error(name, "This column appears twice in the header.")
            columns[folded] = index
        for name in REQUIRED_COLUMNS:
            if name.casefold() not in columns:
                self.error(
                    name,
                    "Required column is missing. Export the file with the shop's "
                    "'Orders' export, which includes it.",
                )
        return None if self.error_count else columns

    def _valid_name(self, number: str) -> bool:
        if not number:
            self.error(
                "Name", "The order name is empty. Every row needs its order's name."
            )
            return False
        if len(number) > MAX_ORDER_NAME_LENGTH:
            self.error(
                "Name",
                f"The order name is longer than {MAX_ORDER_NAME_LENGTH} characters.",
            )
            return False
        return True

    def _read_continuation(
        self, order: ParsedOrder, row: list[str], columns: dict[str, int]
    ) -> None:
        if _cell(row, columns, "Financial Status"):
            self.error(
                "Financial Status",
                f"Order {order.number} already started at record {order.record}, "
                "and a later row of an order must leave the order fields blank. Is "
                "the order in the file twice?",
            )
            return
        self._read_line(order, row, columns)

    def _reject_split_order(
        self, number: str, first_record: int, row: list[str], columns: dict[str, int]
    ) -> None:
        if _cell(row, columns, "Financial Status"):
            message = (
                f"Order {number} is in the file twice: it also starts at record "
                f"{first_record}. Remove one of them."
            )
        else:
            message = (
                f"This row belongs to order {number}, which starts at record "
                f"{first_record}, but other orders come between them. Keep the rows "
                "of an order together, as the shop exports them."
            )
        self.error("Name", message)

    def _finish(self, order: ParsedOrder, errors_before: int) -> Iterator[ParsedOrder]:
        if self.error_count > errors_before:
            return  # its amounts cannot be checked, and the file is rejected
        residue = allocate_order_amounts(order)
        if residue:
            self.order_error(order, "Total", total_mismatch(order, residue))
            return
        yield order

    # Fields

    def _read_order_fields(
        self, order: ParsedOrder, row: list[str], columns: dict[str, int]
    ) -> None:
        def cell(name: str) -> str:
            return _one_line_cell(row, columns, name)

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

        order.currency = self._currency(cell("Currency").upper())
        email = cell("Email")
        if email:
            try:
                validate_email(email)
            except ValidationError:
                self.error("Email", f"{email!r} is not a valid email address.")
        order.email = email
        phone = cell("Phone") or cell("Billing Phone") or cell("Shipping Phone")
        order.phone = phone.lstrip("'")
        order.customer_name = cell("Billing Name") or cell("Shipping Name")
        order.shop_order_id = cell("Id")

        order.placed_at = self._timestamp(cell, "Created at")
        order.paid_at = self._timestamp(cell, "Paid at")
        order.fulfilled_at = self._timestamp(cell, "Fulfilled at")
        order.cancelled_at = self._timestamp(cell, "Cancelled at")

        if order.currency:
            self._read_order_amounts(order, cell)

        order.discount_codes = cell("Discount Code")[:500]
        order.tags = cell("Tags")[:1000]
        order.source = cell("Source")[:100]
        order.payment_method = cell("Payment Method")[:200]
        order.shipping_method = cell("Shipping Method")[:200]
        order.shipping_country = cell("Shipping Country")[:100]
        order.shipping_city = cell("Shipping City")[:100]
        order.notes = _normalise_newlines(_cell(row, columns, "Notes"))
        order.note_attributes = _normalise_newlines(
            _cell(row, columns, "Note Attributes")
        )

    def _currency(self, code: str) -> str:
        currency = code or self.default_currency
        try:
            currency_exponent(currency)
        except UnknownCurrency:
            self.error("Currency", f"{currency!r} is not an ISO 4217 currency code.")
            return ""
        return currency

    def _read_order_amounts(self, order: ParsedOrder, cell) -> None:
        currency = order.currency
        if cell("Subtotal"):
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

    def _read_line(
        self, order: ParsedOrder, row: list[str], columns: dict[str, int]
    ) -> None:
        def cell(name: str) -> str:
            return _one_line_cell(row, columns, name)

        name = cell("Lineitem name")
        if not name:
            self.error("Lineitem name", "The line item has no name.")
        quantity = self._quantity(cell("Lineitem quantity"))
        currency = order.currency
        price = line_discount = 0
        if currency:
            price = self._amount(cell, "Lineitem price", currency, required=True)
            line_discount = self._amount(cell, "Lineitem discount", currency)
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
                # Shopify adds a tip as a line item named "Tip" that ships nothing.
                is_tip=not requires_shipping and name.casefold() == "tip",
            )
        )

    # Values

    def _quantity(self, text: str) -> int:
        if not _QUANTITY.fullmatch(text):
            self.error(
                "Lineitem quantity",
                f"{text!r} is not a whole number of units."
                if text
                else "The quantity is missing.",
            )
            return 0
        # Count digits first, because int() raises ValueError on strings of
        # over 4300 digits (the default limit since Python 3.11).
        if len(text.lstrip("-")) > len(str(MAX_LINE_QUANTITY)) or (
            int(text) > MAX_LINE_QUANTITY
        ):
            shown_text = text if len(text) <= 24 else f"{text[:24]}…"
            self.error(
                "Lineitem quantity",
                f"{shown_text} units is too many for one line item. The maximum is "
                f"{MAX_LINE_QUANTITY:,}.",
            )
            return 0
        quantity = int(text)
        if quantity <= 0:
            self.error(
                "Lineitem quantity", f"The quantity must be at least 1, not {quantity}."
            )
            return 0
        return quantity

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
        if not _AMOUNT.fullmatch(text):
            self.error(
                column,
                f"{text!r} is not an amount. Expected digits with a dot as the "
                "decimal separator, such as 12.50.",
            )
            return 0
        value = Decimal(text)
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


def _cell(row: list[str], columns: dict[str, int], name: str) -> str:
    index = columns.get(name.casefold())
    if index is None or index >= len(row):
        return ""
    return row[index].strip()


def _one_line_cell(row: list[str], columns: dict[str, int], name: str) -> str:
    """Return the cell as one line, as the forms and the API store names."""
    return clean_single_line(_cell(row, columns, name))


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
