"""Write parsed Shopify orders into the database, all or nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Sum

from cases.models import Customer, Order, OrderLine
from cases.shopify_export import ParsedOrder, RowError
from supportdesk.errors import DomainError

logger = logging.getLogger(__name__)

# Rows per query when reading or writing in bulk; SQLite allows 32,766
# parameters per statement, and the widest write here has about 40 columns.
BATCH_SIZE = 500

ORDER_FIELDS = (
    "number",
    "shop_order_id",
    "customer_id",
    "email",
    "email_key",
    "phone",
    "customer_name",
    "currency",
    "financial_status",
    "fulfillment_status",
    "placed_at",
    "paid_at",
    "fulfilled_at",
    "cancelled_at",
    "subtotal_minor",
    "discount_minor",
    "discount_codes",
    "shipping_minor",
    "taxes_minor",
    "taxes_included",
    "duties_minor",
    "total_minor",
    "paid_minor",
    "shop_refunded_minor",
    "external_refunded_minor",
    "tags",
    "source",
    "payment_method",
    "shipping_method",
    "shipping_country",
    "shipping_city",
    "notes",
    "note_attributes",
)
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


class ImportConflict(DomainError):
    """The file contradicts what is stored; nothing was imported."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__(f"{len(errors)} order(s) conflict with the stored orders.")


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


def orders_import(
    parsed: list[ParsedOrder], *, progress: Callable[[int], None] | None = None
) -> ImportSummary:
    """Create or update the orders, their lines and customers in one transaction.

    An order is identified by its name and a line by its position in the
    order, so importing the same export again updates and never duplicates.
    Raises ImportConflict, and writes nothing, when an updated order would
    lose a line or units that refund requests hold.
    """
    summary = ImportSummary()
    conflicts: list[RowError] = []
    with transaction.atomic():
        customers = _upsert_customers(parsed, summary)
        for batch in _batches(parsed, BATCH_SIZE):
            _upsert_orders(batch, customers, summary, conflicts)
            if progress is not None:
                progress(len(batch))
        if conflicts:
            raise ImportConflict(conflicts)  # rolls back everything above
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


def _batches(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _upsert_customers(
    parsed: list[ParsedOrder], summary: ImportSummary
) -> dict[str, Customer]:
    wanted: dict[str, ParsedOrder] = {}
    for order in parsed:
        key = customer_key(order.email, order.phone)
        if key:
            wanted[key] = order  # the latest order in the file gives name and contact

    existing: dict[str, Customer] = {}
    keys = list(wanted)
    for batch in _batches(keys, BATCH_SIZE):
        existing.update({c.key: c for c in Customer.objects.filter(key__in=batch)})

    to_create, to_update = [], []
    for key, order in wanted.items():
        values = {
            "email": order.email[:254],
            "phone": order.phone[:40],
            "name": order.customer_name[:200],
        }
        customer = existing.get(key)
        if customer is None:
            to_create.append(Customer(key=key, **values))
            continue
        changed = False
        for name, value in values.items():
            if value and getattr(customer, name) != value:
                setattr(customer, name, value)
                changed = True
        if changed:
            to_update.append(customer)

    Customer.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    Customer.objects.bulk_update(
        to_update, ["email", "phone", "name", "updated_at"], batch_size=BATCH_SIZE
    )
    summary.customers_created = len(to_create)
    summary.customers_updated = len(to_update)
    created = {c.key: c for c in to_create}
    if to_create and created[to_create[0].key].pk is None:
        # Backends that do not return ids from bulk inserts: read them back.
        for batch in _batches(list(created), BATCH_SIZE):
            created.update({c.key: c for c in Customer.objects.filter(key__in=batch)})
    return {**existing, **created}


def _upsert_orders(
    batch: list[ParsedOrder],
    customers: dict[str, Customer],
    summary: ImportSummary,
    conflicts: list[RowError],
) -> None:
    existing = {
        order.number_key: order
        for order in Order.objects.select_for_update().filter(
            number_key__in=[p.number_key for p in batch]
        )
    }
    confirmed = _confirmed_refunds(existing.values())
    new_orders, changed_orders, foreign = [], [], set()
    for parsed in batch:
        customer = customers.get(customer_key(parsed.email, parsed.phone))
        values = _order_values(parsed, customer)
        order = existing.get(parsed.number_key)
        if order is None:
            new_orders.append(Order(number_key=parsed.number_key, **values))
            continue
        if (
            order.shop_order_id
            and parsed.shop_order_id
            and order.shop_order_id != parsed.shop_order_id
        ):
            conflicts.append(
                RowError(
                    parsed.record,
                    parsed.line,
                    "Id",
                    f"Order {parsed.number} is stored with shop id "
                    f"{order.shop_order_id} but the file has {parsed.shop_order_id}. "
                    "Is this another shop's export?",
                )
            )
            foreign.add(parsed.number_key)
            continue
        values["external_refunded_minor"] = _external_refunds(
            order, parsed, confirmed.get(order.pk, 0), summary
        )
        if any(getattr(order, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(order, name, value)
            changed_orders.append(order)
        else:
            summary.orders_unchanged += 1

    Order.objects.bulk_create(new_orders, batch_size=BATCH_SIZE)
    if new_orders and new_orders[0].pk is None:
        ids = dict(
            Order.objects.filter(
                number_key__in=[o.number_key for o in new_orders]
            ).values_list("number_key", "pk")
        )
        for order in new_orders:
            order.pk = ids[order.number_key]
    Order.objects.bulk_update(
        changed_orders, [*ORDER_FIELDS, "updated_at"], batch_size=BATCH_SIZE
    )
    summary.orders_created += len(new_orders)
    summary.orders_updated += len(changed_orders)

    by_key = {**existing, **{o.number_key: o for o in new_orders}}
    same_shop = [p for p in batch if p.number_key not in foreign]
    _upsert_lines(same_shop, by_key, summary, conflicts)


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
        "subtotal_minor": parsed.subtotal_minor,
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


def _external_refunds(
    order: Order, parsed: ParsedOrder, confirmed_minor: int, summary: ImportSummary
) -> int:
    """Return the money the shop refunded outside Supportdesk.

    The shop's "Refunded Amount" includes Supportdesk's refunds once the shop
    has paid them out. The rest was refunded elsewhere. The result is capped
    so that it and Supportdesk's approved refunds never exceed what was paid;
    the remaining refundable amount then never counts on money already paid
    back. A total that differs from what Supportdesk expected raises a
    reconciliation flag for a supervisor.
    """
    external = max(0, parsed.shop_refunded_minor - confirmed_minor)
    room = max(0, parsed.paid_minor - order.refunded_minor)
    if parsed.shop_refunded_minor < confirmed_minor:
        summary.reconciliation_warnings.append(
            f"{order.number}: the shop reports {parsed.shop_refunded_minor} refunded "
            f"but Supportdesk confirmed {confirmed_minor} (minor units)."
        )
    if external > room:
        summary.reconciliation_warnings.append(
            f"{order.number}: refunds in the shop ({parsed.shop_refunded_minor}) and "
            f"in Supportdesk ({order.refunded_minor}) exceed what was paid "
            f"({parsed.paid_minor}, minor units)."
        )
        external = room
    from refunds.services.reconciliation import shop_refunds_check

    shop_refunds_check(
        order=order,
        shop_refunded_minor=parsed.shop_refunded_minor,
        confirmed_minor=confirmed_minor,
    )
    return external


def _upsert_lines(
    batch: list[ParsedOrder],
    orders: dict[str, Order],
    summary: ImportSummary,
    conflicts: list[RowError],
) -> None:
    order_ids = [orders[p.number_key].pk for p in batch]
    existing: dict[tuple[int, int], OrderLine] = {
        (line.order_id, line.position): line
        for line in OrderLine.objects.filter(order_id__in=order_ids)
    }
    new_lines, changed_lines, seen = [], [], set()
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
                continue
            if (
                values["quantity"] < line.quantity_reserved
                or values["total_minor"] < line.amount_reserved_minor
            ):
                conflicts.append(
                    RowError(
                        parsed.record,
                        parsed.line,
                        "Lineitem quantity",
                        f"Order {parsed.number}, line {parsed_line.position}: "
                        f"refund requests hold {line.quantity_reserved} unit(s); the "
                        f"file now has {values['quantity']}.",
                    )
                )
                continue
            if any(getattr(line, name) != value for name, value in values.items()):
                for name, value in values.items():
                    setattr(line, name, value)
                changed_lines.append(line)

    removed = [line for key, line in existing.items() if key not in seen]
    numbers = {order.pk: order.number for order in orders.values()}
    held = _lines_with_refunds([line.pk for line in removed])
    for line in removed:
        if line.pk in held:
            conflicts.append(
                RowError(
                    0,
                    0,
                    "",
                    f"Order {numbers[line.order_id]}: line {line.position} "
                    f"({line.name}) has refund requests but is missing from the file.",
                )
            )
    if conflicts:
        return

    OrderLine.objects.bulk_create(new_lines, batch_size=BATCH_SIZE)
    OrderLine.objects.bulk_update(
        changed_lines, list(LINE_FIELDS), batch_size=BATCH_SIZE
    )
    if removed:
        OrderLine.objects.filter(pk__in=[line.pk for line in removed]).delete()
    summary.lines_created += len(new_lines)
    summary.lines_updated += len(changed_lines)
    summary.lines_removed += len(removed)


def _lines_with_refunds(line_ids: list[int]) -> set[int]:
    from refunds.models import RefundLine

    if not line_ids:
        return set()
    return set(
        RefundLine.objects.filter(order_line_id__in=line_ids).values_list(
            "order_line_id", flat=True
        )
    )
