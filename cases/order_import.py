"""Write parsed Shopify orders into the database, all or nothing.

``exports_import`` imports export files: it reads every file once to check
it, then again to write its orders in batches inside one transaction, so
memory stays bounded by the batch size however large the files are.
``orders_import`` writes orders that are already parsed.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.db import models, transaction
from django.db.models import Sum
from django.utils import timezone

from cases.models import Customer, Order, OrderLine
from cases.shopify_export import (
    ExportInvalid,
    ExportReader,
    ParsedOrder,
    Progress,
    RowError,
)
from supportdesk.errors import DomainError
from supportdesk.money import Money

logger = logging.getLogger(__name__)

# Orders per batch. The widest bulk write has about 40 columns, so a batch of
# lines or orders stays far below SQLite's 32,766 parameters per statement.
BATCH_SIZE = 500

LINE_FIELDS = (
    "name",
    "sku",
    "vendor",
    "quantity",
    "unit_price_minor",
    "discount_minor",
    "tax_minor",
    "total_minor",
    "requires_shipping",
    "taxable",
    "is_gift_card",
    "fulfillment_status",
)
_UNDATED = datetime.min.replace(tzinfo=UTC)

# Opens a progress bar for one step ("Checking", "Importing") over one file
# and returns the callable that advances it by a number of bytes.
ProgressBars = Callable[[str, Path], AbstractContextManager[Progress | None]]


class ImportConflict(DomainError):
    """The file contradicts what is stored; nothing was imported."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__(f"{len(errors)} order(s) conflict with the stored orders.")


class ExportsInvalid(DomainError):
    """One or more export files have errors; nothing was imported."""

    def __init__(self, failures: list[ExportInvalid]):
        self.failures = failures
        total = sum(failure.total for failure in failures)
        super().__init__(
            f"{total} error(s) in {len(failures)} file(s); nothing was imported."
        )


@dataclass
class ImportSummary:
    orders_created: int = 0
    orders_updated: int = 0
    orders_unchanged: int = 0
    lines_created: int = 0
    lines_updated: int = 0
    lines_removed: int = 0
    customers_created: int = 0
    customers_updated: int = 0
    # Orders found in more than one of the files; the last file was used.
    orders_in_several_files: int = 0
    # Orders whose shop refunds no longer match Supportdesk's record.
    reconciliation_warnings: list[str] = field(default_factory=list)

    @property
    def orders(self) -> int:
        return self.orders_created + self.orders_updated + self.orders_unchanged


def customer_key(email: str, phone: str) -> str:
    """Return the identity of a customer: the email, else the phone digits."""
    if email:
        return f"email:{email.strip().lower()}"
    digits = "".join(ch for ch in phone if ch.isdigit())
    return f"phone:{digits}" if digits else ""


# Files


def exports_import(
    paths: Sequence[Path],
    *,
    default_currency: str,
    time_zone: str,
    progress: ProgressBars | None = None,
) -> ImportSummary:
    """Check every export file, then import all their orders in one transaction.

    Raises ExportsInvalid, having written nothing, when any file has an
    error, and ImportConflict when the files contradict the stored orders.
    An order in several files is imported from the last of them, unless the
    files disagree on its shop id: then they are exports of different shops,
    which is an error.
    """

    def reading(step: str, path: Path) -> AbstractContextManager[ExportReader]:
        return _reading(path, step, progress, default_currency, time_zone)

    winners, repeated = _check_exports(paths, reading)

    def winning_orders() -> Iterator[ParsedOrder]:
        for index, path in enumerate(paths):
            with reading("Importing", path) as reader:
                for order in reader:
                    if winners.get(order.number_key, index) == index:
                        yield order
                invalid = reader.invalid()  # the file changed since the check
                if invalid is not None:
                    raise ExportsInvalid([invalid])

    summary = orders_import(winning_orders())
    summary.orders_in_several_files = repeated
    return summary


@contextmanager
def _reading(
    path: Path,
    step: str,
    progress: ProgressBars | None,
    default_currency: str,
    time_zone: str,
) -> Iterator[ExportReader]:
    bar = progress(step, path) if progress is not None else nullcontext(None)
    with path.open("rb") as stream, bar as advance:
        yield ExportReader(
            stream,
            source=str(path),
            default_currency=default_currency,
            time_zone=time_zone,
            progress=advance,
        )


@dataclass(frozen=True, slots=True)
class _FirstSeen:
    file: str
    record: int
    shop_order_id: str


def _check_exports(
    paths: Sequence[Path],
    reading: Callable[[str, Path], AbstractContextManager[ExportReader]],
) -> tuple[dict[str, int], int]:
    """Read every file; return the index of the file each order is taken from.

    The index is returned only for orders in more than one file: every other
    order comes from the file that has it. Also returns how many orders are
    in more than one file. The reader rejects an order given twice in one
    file, so the orders of the last file are looked up, never stored.
    """
    first_seen: dict[str, _FirstSeen] = {}
    winners: dict[str, int] = {}
    last = len(paths) - 1
    failures = []
    for index, path in enumerate(paths):
        with reading("Checking", path) as reader:
            for order in reader:
                seen = first_seen.get(order.number_key)
                if seen is None:
                    if index < last:
                        first_seen[order.number_key] = _FirstSeen(
                            order.file, order.record, order.shop_order_id
                        )
                elif _other_shop(seen.shop_order_id, order.shop_order_id):
                    reader.order_error(
                        order,
                        "Id",
                        f"Order {order.number} is also in {seen.file} (record "
                        f"{seen.record}) with shop id {seen.shop_order_id}, not "
                        f"{order.shop_order_id}. Are these exports of two different "
                        "shops? Import them separately, into separate Supportdesk "
                        "installations.",
                    )
                else:
                    winners[order.number_key] = index
        invalid = reader.invalid()
        if invalid is not None:
            failures.append(invalid)
    if failures:
        raise ExportsInvalid(failures)
    return winners, len(winners)


def _other_shop(first_id: str, second_id: str) -> bool:
    """Return whether two orders of one name have different shop ids.

    Shopify never changes an order's id, so they are orders of two shops.
    Without an id on both sides the orders count as one.
    """
    return bool(first_id and second_id and first_id != second_id)


# Orders


def orders_import(
    parsed: Iterable[ParsedOrder], *, progress: Progress | None = None
) -> ImportSummary:
    """Create or update the orders, their lines and customers in one transaction.

    An order is identified by its name and a line by its position in the
    order, so importing the same export again updates and never duplicates.
    The orders are written in batches of BATCH_SIZE as ``parsed`` yields them;
    each order may appear once. Raises ImportConflict, and writes nothing,
    when an order belongs to another shop or an updated order would lose a
    line or units that refund requests hold. ``progress`` is called with the
    number of orders written.
    """
    writer = _Writer()
    with transaction.atomic():
        for batch in itertools.batched(parsed, BATCH_SIZE):
            writer.write(list(batch))
            if progress is not None:
                progress(len(batch))
        if writer.conflicts:
            raise ImportConflict(writer.conflicts)  # rolls back everything above
    summary = writer.summary
    summary.customers_created = len(writer.customers_created)
    summary.customers_updated = len(writer.customers_updated)
    logger.info(
        "Imported %s orders (%s created, %s updated)",
        summary.orders,
        summary.orders_created,
        summary.orders_updated,
        extra={
            "orders_created": summary.orders_created,
            "orders_updated": summary.orders_updated,
            "lines_created": summary.lines_created,
            "customers_created": summary.customers_created,
        },
    )
    return summary


class _Writer:
    """Writes batches of one import run and keeps its counts and conflicts."""

    def __init__(self) -> None:
        self.summary = ImportSummary()
        self.conflicts: list[RowError] = []
        self.seen: set[str] = set()
        self.customers_created: set[str] = set()
        self.customers_updated: set[str] = set()
        # The creation time of the order that last set each customer's details
        # in this run, so that the newest order wins whatever the file order.
        self.customer_dated: dict[str, datetime] = {}
        self.now = timezone.now()

    def write(self, batch: list[ParsedOrder]) -> None:
        for parsed in batch:
            if parsed.number_key in self.seen:
                raise ValueError(f"Order {parsed.number} is given twice.")
            self.seen.add(parsed.number_key)
        customers = self._upsert_customers(batch)
        orders = self._upsert_orders(batch, customers)
        self._upsert_lines([p for p in batch if p.number_key in orders], orders)

    def _conflict(self, parsed: ParsedOrder, column: str, message: str) -> None:
        self.conflicts.append(
            RowError(parsed.record, parsed.line, column, message, file=parsed.file)
        )

    # Customers

    def _upsert_customers(self, batch: list[ParsedOrder]) -> dict[str, Customer]:
        newest: dict[str, ParsedOrder] = {}
        for order in batch:
            key = customer_key(order.email, order.phone)
            if key and _dated(order) >= _dated(newest.get(key)):
                newest[key] = order
        customers = {
            customer.key: customer
            for customer in Customer.objects.filter(key__in=list(newest))
        }

        to_create, to_update = [], []
        for key, order in newest.items():
            values = {
                "email": order.email[:254],
                "phone": order.phone[:40],
                "name": order.customer_name[:200],
            }
            customer = customers.get(key)
            if customer is None:
                to_create.append(Customer(key=key, **values))
                self.customer_dated[key] = _dated(order)
                continue
            if _dated(order) < self.customer_dated.get(key, _UNDATED):
                continue  # a newer order of this run already set the details
            self.customer_dated[key] = _dated(order)
            changes = {
                name: value
                for name, value in values.items()
                if value and getattr(customer, name) != value
            }
            if changes:
                _update(customer, changes, updated_at=self.now)
                to_update.append(customer)

        Customer.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
        if to_create and to_create[0].pk is None:
            # Backends that do not return ids from bulk inserts: read them back.
            keys = [customer.key for customer in to_create]
            to_create = list(Customer.objects.filter(key__in=keys))
        self.customers_created.update(customer.key for customer in to_create)
        self.customers_updated.update(
            customer.key
            for customer in to_update
            if customer.key not in self.customers_created
        )
        customers.update({customer.key: customer for customer in to_create})
        return customers

    # Orders

    def _upsert_orders(
        self, batch: list[ParsedOrder], customers: dict[str, Customer]
    ) -> dict[str, Order]:
        """Write the batch's orders; return them by key, except another shop's."""
        existing = {
            order.number_key: order
            for order in Order.objects.select_for_update().filter(
                number_key__in=[parsed.number_key for parsed in batch]
            )
        }
        confirmed = _confirmed_refunds(existing.values())
        new_orders = []
        written: dict[str, Order] = {}
        for parsed in batch:
            customer = customers.get(customer_key(parsed.email, parsed.phone))
            values = _order_values(parsed, customer)
            order = existing.get(parsed.number_key)
            if order is None:
                order = Order(number_key=parsed.number_key, **values)
                new_orders.append(order)
                written[parsed.number_key] = order
                continue
            if self._another_shops_order(order, parsed):
                continue
            values["external_refunded_minor"] = self._external_refunds(
                order, parsed, confirmed.get(order.pk, 0)
            )
            written[parsed.number_key] = order
            changes = _changes(order, values)
            if changes:
                _update(order, changes, updated_at=self.now)
                self.summary.orders_updated += 1
            else:
                self.summary.orders_unchanged += 1

        Order.objects.bulk_create(new_orders, batch_size=BATCH_SIZE)
        if new_orders and new_orders[0].pk is None:
            ids = dict(
                Order.objects.filter(
                    number_key__in=[order.number_key for order in new_orders]
                ).values_list("number_key", "pk")
            )
            for order in new_orders:
                order.pk = ids[order.number_key]
        self.summary.orders_created += len(new_orders)
        return written

    def _another_shops_order(self, order: Order, parsed: ParsedOrder) -> bool:
        """Record a conflict if the stored order is not the one in the file."""
        if not _other_shop(order.shop_order_id, parsed.shop_order_id):
            return False
        self._conflict(
            parsed,
            "Id",
            f"Order {parsed.number} is stored with shop id {order.shop_order_id} but "
            f"the file has {parsed.shop_order_id}. Is this another shop's export?",
        )
        return True

    def _external_refunds(
        self, order: Order, parsed: ParsedOrder, confirmed_minor: int
    ) -> int:
        """Return the money the shop refunded outside Supportdesk.

        The shop's "Refunded Amount" includes Supportdesk's refunds once the
        shop has paid them out. The rest was refunded elsewhere. The result is
        capped so that it and Supportdesk's approved refunds never exceed what
        was paid. The remaining refundable amount then never counts on money
        already paid back. A total that differs from what Supportdesk expected
        raises a reconciliation flag for a supervisor.
        """
        warnings = self.summary.reconciliation_warnings
        external = max(0, parsed.shop_refunded_minor - confirmed_minor)
        room = max(0, parsed.paid_minor - order.refunded_minor)
        if parsed.shop_refunded_minor < confirmed_minor:
            warnings.append(
                f"{order.number}: the shop reports "
                f"{Money(parsed.shop_refunded_minor, parsed.currency)} refunded but "
                f"Supportdesk confirmed {Money(confirmed_minor, parsed.currency)}."
            )
        if external > room:
            warnings.append(
                f"{order.number}: refunds in the shop "
                f"({Money(parsed.shop_refunded_minor, parsed.currency)}) and in "
                f"Supportdesk ({Money(order.refunded_minor, parsed.currency)}) "
                f"exceed what was paid ({Money(parsed.paid_minor, parsed.currency)})."
            )
            external = room
        from refunds.services.reconciliation import shop_refunds_check

        shop_refunds_check(
            order=order,
            shop_refunded_minor=parsed.shop_refunded_minor,
            confirmed_minor=confirmed_minor,
        )
        return external

    # Lines

    def _upsert_lines(self, batch: list[ParsedOrder], orders: dict[str, Order]) -> None:
        order_ids = [orders[parsed.number_key].pk for parsed in batch]
        existing: dict[tuple[int, int], OrderLine] = {
            (line.order_id, line.position): line
            for line in OrderLine.objects.filter(order_id__in=order_ids)
        }
        new_lines, changed_lines, seen = [], [], set()
        conflicts_before = len(self.conflicts)
        for parsed in batch:
            order = orders[parsed.number_key]
            for parsed_line in parsed.lines:
                key = (order.pk, parsed_line.position)
                seen.add(key)
                values = {name: getattr(parsed_line, name) for name in LINE_FIELDS}
                line = existing.get(key)
                if line is None:
                    new_lines.append(
                        OrderLine(
                            order_id=order.pk, position=parsed_line.position, **values
                        )
                    )
                elif self._loses_reserved(parsed, line, values):
                    continue
                elif changes := _changes(line, values):
                    changed_lines.append((line, changes))

        by_id = {orders[parsed.number_key].pk: parsed for parsed in batch}
        removed = [line for key, line in existing.items() if key not in seen]
        held = _lines_with_refunds([line.pk for line in removed])
        for line in removed:
            if line.pk in held:
                parsed = by_id[line.order_id]
                self._conflict(
                    parsed,
                    "Lineitem name",
                    f"Order {parsed.number}: line {line.position} ({line.name}) has "
                    "refund requests but is missing from the file.",
                )
        if len(self.conflicts) > conflicts_before:
            return  # the transaction is rolled back; skip the writes

        OrderLine.objects.bulk_create(new_lines, batch_size=BATCH_SIZE)
        for line, changes in changed_lines:
            _update(line, changes)
        if removed:
            OrderLine.objects.filter(pk__in=[line.pk for line in removed]).delete()
        self.summary.lines_created += len(new_lines)
        self.summary.lines_updated += len(changed_lines)
        self.summary.lines_removed += len(removed)

    def _loses_reserved(
        self, parsed: ParsedOrder, line: OrderLine, values: dict
    ) -> bool:
        """Record a conflict if the file shrinks a line below its refund requests."""
        if (
            values["quantity"] >= line.quantity_reserved
            and values["total_minor"] >= line.amount_reserved_minor
        ):
            return False
        currency = parsed.currency
        self._conflict(
            parsed,
            "Lineitem quantity",
            f"Order {parsed.number}, line {line.position}: refund requests hold "
            f"{line.quantity_reserved} unit(s) worth "
            f"{Money(line.amount_reserved_minor, currency)}, but the file now has "
            f"{values['quantity']} unit(s) worth "
            f"{Money(values['total_minor'], currency)}.",
        )
        return True


def _changes(instance: models.Model, values: dict) -> dict:
    return {
        name: value
        for name, value in values.items()
        if getattr(instance, name) != value
    }


def _update(instance: models.Model, changes: dict, **extra) -> None:
    """Write only the changed fields of one row.

    One UPDATE per changed row, because bulk_update's CASE expressions grow
    with the batch on every row: a re-import of 50,000 changed orders with it
    ran for more than ten minutes.
    """
    changes = {**changes, **extra}
    for name, value in changes.items():
        setattr(instance, name, value)
    type(instance)._default_manager.filter(pk=instance.pk).update(**changes)


def _dated(order: ParsedOrder | None) -> datetime:
    if order is None or order.placed_at is None:
        return _UNDATED
    return order.placed_at


def _order_values(parsed: ParsedOrder, customer: Customer | None) -> dict:
    return {
        "number": parsed.number,
        "shop_order_id": parsed.shop_order_id,
        "customer_id": customer.pk if customer else None,
        "email": parsed.email[:254],
        "email_key": parsed.email_key[:254],
        "phone": parsed.phone[:40],
        "customer_name": parsed.customer_name[:200],
        "currency": parsed.currency,
        "financial_status": parsed.financial_status,
        "fulfillment_status": parsed.fulfillment_status,
        "placed_at": parsed.placed_at,
        "paid_at": parsed.paid_at,
        "fulfilled_at": parsed.fulfilled_at,
        "cancelled_at": parsed.cancelled_at,
        "subtotal_minor": parsed.subtotal_minor or 0,
        "discount_minor": parsed.discount_minor,
        "discount_codes": parsed.discount_codes,
        "shipping_minor": parsed.shipping_minor,
        "taxes_minor": parsed.taxes_minor,
        "taxes_included": parsed.taxes_included,
        "duties_minor": parsed.duties_minor,
        "total_minor": parsed.total_minor or 0,
        "paid_minor": parsed.paid_minor,
        "shop_refunded_minor": parsed.shop_refunded_minor,
        "external_refunded_minor": min(parsed.shop_refunded_minor, parsed.paid_minor),
        "tags": parsed.tags,
        "source": parsed.source,
        "payment_method": parsed.payment_method,
        "shipping_method": parsed.shipping_method,
        "shipping_country": parsed.shipping_country,
        "shipping_city": parsed.shipping_city,
        "notes": parsed.notes,
        "note_attributes": parsed.note_attributes,
    }


def _confirmed_refunds(orders: Iterable[Order]) -> dict[int, int]:
    """Return, per order id, the money Supportdesk refunds confirmed as paid out."""
    from refunds.models import RefundRequest

    ids = [order.pk for order in orders]
    if not ids:
        return {}
    rows = (
        RefundRequest.objects.filter(
            order_id__in=ids, status=RefundRequest.Status.REFUNDED
        )
        .values("order_id")
        .annotate(total=Sum("approved_minor"))
    )
    return {row["order_id"]: row["total"] or 0 for row in rows}


def _lines_with_refunds(line_ids: list[int]) -> set[int]:
    from refunds.models import RefundLine

    if not line_ids:
        return set()
    return set(
        RefundLine.objects.filter(order_line_id__in=line_ids).values_list(
            "order_line_id", flat=True
        )
    )
