"""Helpers for API tests: orders from export rows, and clients with tokens."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from rest_framework.test import APIClient

from cases.models import Order
from conftest import EXPORT_HEADER, export_row, import_export

PASSWORD = "pass-for-tests"


def make_order(
    number: str = "#1001",
    *,
    email: str = "jo.tester@example.com",
    lines: tuple[tuple[str, int, str, str], ...] = (
        ("Jacket", 1, "150.00", "JKT-1"),
        ("Scarf", 2, "30.00", "SCF-1"),
    ),
    currency: str = "USD",
    days_ago: int = 3,
    name: str = "Jo Tester",
) -> Order:
    """Import a paid, unfulfilled order of ``lines`` (name, quantity, price, sku)."""
    placed = (timezone.now() - timedelta(days=days_ago)).strftime(
        "%Y-%m-%d %H:%M:%S +0000"
    )
    subtotal = sum(quantity * cents(price) for _, quantity, price, _ in lines)
    total = f"{subtotal // 100}.{subtotal % 100:02d}"
    rows = []
    for index, (line_name, quantity, price, sku) in enumerate(lines):
        fields = {
            "name": number,
            "lineitem_quantity": str(quantity),
            "lineitem_name": line_name,
            "lineitem_price": price,
            "lineitem_sku": sku,
        }
        if index == 0:
            fields.update(
                email=email,
                financial_status="paid",
                paid_at=placed,
                currency=currency,
                subtotal=total,
                shipping="0.00",
                taxes="0.00",
                total=total,
                created_at=placed,
                billing_name=name,
            )
        rows.append(export_row(**fields))
    import_export("\n".join([EXPORT_HEADER, *rows]) + "\n", currency=currency)
    return Order.objects.get(number=number)


def cents(price: str) -> int:
    """Return a price such as "30.00" in cents."""
    units, _, cents = price.partition(".")
    return int(units) * 100 + int((cents + "00")[:2])


def obtain_tokens(user, password: str = PASSWORD) -> dict:
    response = APIClient().post(
        "/api/v1/auth/token/",
        {"username": user.username, "password": password},
        format="json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def client_for(user, password: str = PASSWORD) -> APIClient:
    """Return an APIClient that sends a fresh access token of ``user``."""
    client = APIClient()
    access = obtain_tokens(user, password)["access"]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client
