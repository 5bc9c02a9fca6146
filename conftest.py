"""Fixtures shared by every test: agents, teams, a policy and orders.

Orders are built from small Shopify export snippets run through the real
parser and importer, so every test exercises the import path too.
"""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.cache import cache

from agents.models import Agent, Team
from agents.services import agent_create
from cases.order_import import orders_import
from cases.shopify_export import parse_export
from refunds.models import RefundPolicy

EXPORT_HEADER = (
    "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Currency,"
    "Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Created at,"
    "Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,"
    "Lineitem requires shipping,Lineitem taxable,Refunded Amount,Cancelled at,Tags,"
    "Billing Name,Id"
)


@pytest.fixture(autouse=True)
def _clear_cache():
    """Start every test with an empty cache (rate limits, presence, counts)."""
    cache.clear()
    yield
    cache.clear()


def import_export(text: str | bytes, *, currency: str = "USD", time_zone: str = "UTC"):
    """Parse and import an export given as text or bytes; return the summary."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    orders = parse_export(
        io.BytesIO(data),
        source="test.csv",
        default_currency=currency,
        time_zone=time_zone,
    )
    return orders_import(orders)


def export_row(**values: str) -> str:
    """Return one CSV row of EXPORT_HEADER's columns, blanks where not given."""
    columns = EXPORT_HEADER.split(",")
    cells = []
    for column in columns:
        key = column.lower().replace(" ", "_")
        value = values.get(key, "")
        if any(ch in value for ch in ',"\n\r'):
            value = '"' + value.replace('"', '""') + '"'
        cells.append(value)
    return ",".join(cells)


@pytest.fixture
def refunds_team(db) -> Team:
    return Team.objects.create(name="Refunds", slug="refunds", handles_refunds=True)


@pytest.fixture
def general_team(db) -> Team:
    return Team.objects.create(name="General", slug="general")


@pytest.fixture
def make_agent(db, refunds_team):
    counter = iter(range(1, 10_000))

    def make(
        name: str | None = None,
        *,
        supervisor: bool = False,
        limit: str = "100",
        teams: list[Team] | None = None,
    ) -> Agent:
        number = next(counter)
        username = (name or f"agent{number}").lower().replace(" ", "")
        return agent_create(
            username=username,
            password="pass-for-tests",
            display_name=name or f"Agent {number}",
            is_supervisor=supervisor,
            approval_limit=Decimal(limit),
            teams=[refunds_team] if teams is None else teams,
        )

    return make


@pytest.fixture
def agent(make_agent) -> Agent:
    return make_agent("Alex Agent", limit="100")


@pytest.fixture
def supervisor(make_agent) -> Agent:
    return make_agent("Sam Supervisor", supervisor=True, limit="1000")


@pytest.fixture
def policy(db) -> RefundPolicy:
    return RefundPolicy.objects.create(
        name="Test policy",
        is_active=True,
        currency="USD",
        return_window_days=30,
        auto_approve_limit=Decimal("0"),
        supervisor_threshold=Decimal("500"),
        abuse_max_refunds=0,
        abuse_max_ratio=Decimal("0"),
    )


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent.user)
    return client
