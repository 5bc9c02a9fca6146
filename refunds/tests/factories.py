"""Orders and refund requests for view tests, built through the real importer."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from cases.audit import Actor
from cases.models import Order, SupportCase
from cases.services import case_create
from conftest import EXPORT_HEADER, export_row, import_export
from refunds.models import RefundRequest
from refunds.services import refund_request_create

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
