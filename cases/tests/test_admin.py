"""Supervisors' admin: changelists with a fixed number of queries, capped counts."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agents.models import Agent, Team
from cases.admin import SupportCaseAdmin
from cases.models import AuditEvent, Customer, Order, SupportCase
from cases.tests.factories import make_case
from supportdesk.pagination import CappedPaginator

CASES = reverse("admin:cases_supportcase_changelist")


@pytest.fixture
def big_desk(db, make_agent):
    """1,000 cases over 1,000 orders and customers, 20 agents and 2 teams."""
    teams = [
        Team.objects.create(name="Desk A", slug="desk-a"),
        Team.objects.create(name="Desk B", slug="desk-b"),
    ]
    agents = [make_agent(f"Desk Agent {n}", teams=teams) for n in range(20)]
    customers = Customer.objects.bulk_create(
        Customer(key=f"email:big{n}@example.test", name=f"Big {n}") for n in range(1000)
    )
    orders = Order.objects.bulk_create(
        Order(
            number=f"#B{n}",
            number_key=f"b{n}",
            currency="USD",
            financial_status="paid",
            customer=customers[n],
        )
        for n in range(1000)
    )
    SupportCase.objects.bulk_create(
        SupportCase(
            subject=f"Case {n}",
            channel=SupportCase.Channel.EMAIL,
            team=teams[n % 2],
            assignee=agents[n % 20] if n % 3 else None,
            customer=customers[n],
            order=orders[n],
        )
        for n in range(1000)
    )
    return agents


def changelist_queries(client, url: str, per_page: int, monkeypatch) -> list[str]:
    monkeypatch.setattr(SupportCaseAdmin, "list_per_page", per_page)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return [query["sql"] for query in captured]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?status__exact=open",
        "?q=Case+1",
        "?assignee__id__exact={agent}&created_at__gte=2000-01-01T00:00:00%2B00:00",
    ],
)
def test_case_changelist_queries_are_fixed(
    client, supervisor, big_desk, monkeypatch, query
):
    client.force_login(supervisor.user)
    query = query.format(agent=big_desk[1].pk)

    at_100 = changelist_queries(client, CASES + query, 100, monkeypatch)
    at_200 = changelist_queries(client, CASES + query, 200, monkeypatch)

    assert len(at_100) == len(at_200)
    assert len(at_100) <= 12


def test_case_changelist_never_counts_the_whole_table(
    client, supervisor, big_desk, monkeypatch
):
    client.force_login(supervisor.user)

    for query in ["", "?status__exact=open"]:
        sql = changelist_queries(client, CASES + query, 100, monkeypatch)
        counts = [s for s in sql if "COUNT(" in s.upper() and "supportcase" in s]
        assert counts, query
        assert all("LIMIT" in s.upper() for s in counts), counts


def test_capped_changelist_says_more_than(client, supervisor, big_desk, monkeypatch):
    client.force_login(supervisor.user)
    monkeypatch.setattr(CappedPaginator, "count_cap", 500)

    html = client.get(CASES).content.decode()

    assert re.search(r"More than 500 support cases", html)


def test_changelist_shows_exact_count_under_the_cap(client, supervisor, refunds_team):
    client.force_login(supervisor.user)
    make_case(refunds_team)
    make_case(refunds_team)

    html = client.get(CASES).content.decode()

    assert "2 support cases" in html
    assert "More than" not in html


def test_audit_changelist_uses_the_capped_paginator(client, supervisor, refunds_team):
    client.force_login(supervisor.user)
    make_case(refunds_team)

    response = client.get(reverse("admin:cases_auditevent_changelist"))

    assert isinstance(response.context["cl"].paginator, CappedPaginator)
    assert AuditEvent.objects.count() >= 1


def test_agent_admin_action_returns_cases(client, supervisor, agent, refunds_team):
    client.force_login(supervisor.user)
    case = make_case(refunds_team)
    SupportCase.objects.filter(pk=case.pk).update(assignee=agent)

    client.post(
        reverse("admin:agents_agent_changelist"),
        {
            "action": "mark_offline_and_return_cases",
            "_selected_action": [agent.pk],
        },
    )

    assert Agent.objects.get(pk=agent.pk).status == Agent.Status.OFFLINE
    assert SupportCase.objects.get(pk=case.pk).assignee is None
