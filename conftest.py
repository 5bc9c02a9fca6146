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
from agents.services import agent_create, integration_create
from cases.order_import import orders_import
from cases.shopify_export import parse_export
from refunds.models import RefundPolicy
from supportdesk import cache_breaker

EXPORT_HEADER = (
    "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Currency,"
    "Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Created at,"
    "Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,"
    "Lineitem requires shipping,Lineitem taxable,Refunded Amount,Cancelled at,Tags,"
    "Billing Name,Id"
)


def pytest_report_header(config):
    from django.conf import settings

    if not settings.REDIS_URL:
        return "tests marked redis: deselected, because REDIS_URL is not set"
    return f"tests marked redis: run against REDIS_URL={settings.REDIS_URL}"


def pytest_collection_modifyitems(config, items):
    """Deselect tests marked ``redis`` when REDIS_URL is not set.

    They count as deselected, not skipped, and the report header says so
    (pytest-xdist leaves deselections out of its summary). With REDIS_URL set
    they run, and fail when Redis is not reachable.
    """
    from django.conf import settings

    if settings.REDIS_URL:
        return
    deselected = [item for item in items if item.get_closest_marker("redis")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker("redis")]


def empty_cache() -> None:
    # django-redis deletes only this worker's prefixed keys this way, where
    # clear() would flush the database that every xdist worker uses.
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("*")
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def _clear_cache():
    """Start every test with an empty cache (rate limits, presence, counts),
    and with the cache in use again after a test that made Redis fail."""
    empty_cache()
    cache_breaker.reset()
    yield
    empty_cache()
    cache_breaker.reset()


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


@pytest.fixture
def integration(db):
    """A user in the Integrations group, without an agent profile."""
    return integration_create(username="shop-sync", password="pass-for-tests")
