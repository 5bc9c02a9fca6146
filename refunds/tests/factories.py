"""Orders, refund requests and cases for tests, built through the real importer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from cases.audit import Actor
from cases.models import Order, SupportCase
from cases.services import case_create
from cases.shopify_export import order_number_key
from conftest import EXPORT_HEADER, export_row, import_export
from refunds.models import RefundRequest
from refunds.services import refund_request_create
from supportdesk.money import currency_exponent

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S %z"

# Line items as (name, unit price, quantity, SKU).
MUGS = [("Blue Mug", "12.00", 2, "MUG-B"), ("Tea Towel", "8.00", 1, "TT-1")]


def recent_order(
    number: str = "#1001",
    email: str = "ana.tester@example.com",
    *,
    lines: list[tuple[str, str, int, str]] = MUGS,
    billing_name: str = "Ana Tester",
    days_ago: int = 3,
    currency: str = "USD",
) -> Order:
    """Import a paid, fulfilled order placed ``days_ago`` days ago and return it."""
    placed = timezone.now() - timedelta(days=days_ago)
    stamp = placed.strftime(TIMESTAMP_FORMAT)
    total = sum(Decimal(price) * quantity for _, price, quantity, _ in lines)
    rows = [EXPORT_HEADER]
    for index, (name, price, quantity, sku) in enumerate(lines):
        order_fields = {}
        if index == 0:
            order_fields = {
                "email": email,
                "financial_status": "paid",
                "paid_at": stamp,
                "fulfillment_status": "fulfilled",
                "fulfilled_at": stamp,
                "currency": currency,
                "subtotal": f"{total:.2f}",
                "shipping": "0.00",
                "taxes": "0.00",
                "total": f"{total:.2f}",
                "created_at": stamp,
                "billing_name": billing_name,
            }
        rows.append(
            export_row(
                name=number,
                lineitem_quantity=str(quantity),
                lineitem_name=name,
                lineitem_price=price,
                lineitem_sku=sku,
                lineitem_requires_shipping="true",
                lineitem_taxable="true",
                **order_fields,
            )
        )
    import_export("\n".join(rows) + "\n", currency=currency)
    return Order.objects.get(number=number)


def file_refund(
    order: Order,
    quantities: dict[str, int] | None = None,
    *,
    reason_code: str = "damaged",
    reason_text: str = "The handle came off.",
) -> RefundRequest:
    """File a refund request as the customer would, by line name and quantity."""
    lines = {line.name: line for line in order.lines.all()}
    quantities = quantities or {next(iter(lines)): 1}
    return refund_request_create(
        order=order,
        selection={lines[name].pk: quantity for name, quantity in quantities.items()},
        reason_code=reason_code,
        reason_text=reason_text,
        actor=Actor.customer(order.customer_name),
    )


def open_cases(count: int, team) -> list[SupportCase]:
    """Open ``count`` email cases in ``team``, subjects numbered from 00."""
    return [
        case_create(
            actor=Actor.system(),
            subject=f"Question {number:02d}",
            channel=SupportCase.Channel.EMAIL,
            body="Hello",
            team=team,
        )
        for number in range(count)
    ]


def _stamp(moment: datetime) -> str:
    return moment.strftime(TIMESTAMP_FORMAT)


def order_rows(
    number: str = "#1001",
    lines: Sequence[tuple[str, str, int, str]] = (("Sticker", "10.00", 1, "STK-1"),),
    *,
    email: str = "ana.tester@example.com",
    customer_name: str = "Ana Tester",
    currency: str = "USD",
    status: str = "paid",
    shipping: str = "0",
    taxes: str = "0",
    discount: str = "0",
    total: str | None = None,
    refunded: str = "0",
    created_at: datetime | None = None,
    fulfilled_at: datetime | None = None,
    cancelled_at: datetime | None = None,
    tags: str = "",
    shop_id: str = "",
    requires_shipping: str = "true",
    fulfilled: bool = True,
) -> list[str]:
    """Return the export rows of one order; ``lines`` are (name, price, qty, sku).

    The order is fulfilled a day after it was placed unless ``fulfilled`` is
    False or ``fulfilled_at`` is given.
    """
    created_at = created_at or timezone.now() - timedelta(days=3)
    if fulfilled:
        fulfilled_at = fulfilled_at or created_at + timedelta(days=1)
    exponent = currency_exponent(currency)
    if total is None:
        goods = sum(Decimal(price) * quantity for _, price, quantity, _ in lines)
        value = goods - Decimal(discount) + Decimal(shipping) + Decimal(taxes)
        total = f"{value:.{exponent}f}"
    rows = []
    for index, (name, price, quantity, sku) in enumerate(lines):
        values = {
            "name": number,
            "created_at": _stamp(created_at),
            "lineitem_quantity": str(quantity),
            "lineitem_name": name,
            "lineitem_price": price,
            "lineitem_sku": sku,
            "lineitem_requires_shipping": requires_shipping,
            "lineitem_taxable": "true",
        }
        if index == 0:
            values.update(
                email=email,
                financial_status=status,
                paid_at=_stamp(created_at) if status != "pending" else "",
                fulfillment_status="fulfilled" if fulfilled_at else "unfulfilled",
                fulfilled_at=_stamp(fulfilled_at) if fulfilled_at else "",
                currency=currency,
                subtotal=f"{sum(Decimal(p) * q for _, p, q, _ in lines):.{exponent}f}",
                shipping=shipping,
                taxes=taxes,
                total=total,
                discount_code="SAVE" if Decimal(discount) else "",
                discount_amount=discount,
                refunded_amount=refunded,
                cancelled_at=_stamp(cancelled_at) if cancelled_at else "",
                tags=tags,
                billing_name=customer_name,
                id=shop_id,
            )
        rows.append(export_row(**values))
    return rows


def make_order(number: str = "#1001", **kwargs) -> Order:
    """Import one order through the real parser and importer and return it."""
    currency = kwargs.get("currency", "USD")
    text = "\n".join([EXPORT_HEADER, *order_rows(number, **kwargs)]) + "\n"
    import_export(text, currency=currency)
    return Order.objects.get(number_key=order_number_key(number))


def reimport(number: str = "#1001", **kwargs) -> None:
    """Import the order again with changed columns, as a later export would."""
    make_order(number, **kwargs)


def request_refund(
    order: Order,
    quantities: dict[int, int] | None = None,
    *,
    actor: Actor | None = None,
    reason_code: str = RefundRequest.Reason.DAMAGED,
    submission_key: str | None = None,
) -> RefundRequest:
    """File a request for ``quantities`` by line position (all units if None)."""
    lines = list(order.lines.order_by("position"))
    if quantities is None:
        selection = {line.pk: line.quantity_refundable for line in lines}
    else:
        by_position = {line.position: line for line in lines}
        selection = {by_position[pos].pk: qty for pos, qty in quantities.items()}
    return refund_request_create(
        order=order,
        selection=selection,
        reason_code=reason_code,
        reason_text="",
        actor=actor or Actor.customer("Ana Tester"),
        submission_key=submission_key,
    )


def policy_form_data(client, policy, **changes) -> tuple[str, dict]:
    """Return the policy's admin change URL and its current form data, changed."""
    change_url = reverse("admin:refunds_refundpolicy_change", args=[policy.pk])
    form = client.get(change_url).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and value is not False
    }
    data.update(changes)
    return change_url, data
