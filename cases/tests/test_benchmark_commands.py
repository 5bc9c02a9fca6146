"""The benchmark commands run end to end on a tiny desk (no timing asserted)."""

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from agents.models import Agent
from agents.roles import Role, role_of
from cases.models import CaseMessage, Order, SupportCase
from cases.tests.factories import make_case
from refunds.models import RefundRequest


def test_seed_and_benchmark_run(db, capsys):
    call_command("seed_benchmark", orders=40, cases=30, agents=4, teams=2, batch=10)
    call_command("benchmark_queue", runs=2)

    out = capsys.readouterr().out
    assert "Seeded 2 teams, 4 agents, 8 customers, 40 orders and 30 cases." in out
    assert SupportCase.objects.count() == 30
    assert CaseMessage.objects.count() == 60
    assert Agent.objects.filter(memberships__isnull=False).distinct().count() == 4
    for page in ["queue, all active", "view counts", "take next (POST)"]:
        assert page in out


def test_seed_users_orders_and_customers(db):
    call_command(
        "seed_benchmark",
        orders=40,
        cases=30,
        agents=3,
        teams=2,
        integrations=2,
        password="bench-password",
        batch=10,
    )

    agent_user = authenticate(username="bench2", password="bench-password")
    api_user = authenticate(username="bench-api1", password="bench-password")
    assert role_of(agent_user) == Role.AGENT
    assert role_of(api_user) == Role.INTEGRATION
    order = Order.objects.get(number="#B13")
    assert order.email_key == "bench5@example.test"
    assert order.customer.email == "bench5@example.test"
    assert order.lines.count() == 2
    assert sum(line.total_minor for line in order.lines.all()) == order.total_minor
    case = SupportCase.objects.get(order=order)
    assert case.customer_id == order.customer_id
    assert case.first_response_at is not None
    for assigned in SupportCase.objects.filter(assignee__isnull=False):
        assert assigned.team in assigned.assignee.teams.all()
    refund = RefundRequest.objects.first()
    assert refund.customer_id == refund.order.customer_id


def test_seed_without_password_allows_no_login(db):
    call_command("seed_benchmark", orders=5, cases=2, agents=1, teams=2)

    assert authenticate(username="bench0", password="") is None
    assert not Agent.objects.get().user.has_usable_password()


def test_seed_refuses_a_database_with_cases(refunds_team):
    make_case(refunds_team)

    with pytest.raises(CommandError, match="already has cases"):
        call_command("seed_benchmark", orders=1, cases=1)


def test_benchmark_needs_seeded_data(db):
    with pytest.raises(CommandError, match="Run seed_benchmark first"):
        call_command("benchmark_queue", runs=1)
