"""The benchmark commands run end to end on a tiny desk (no timing asserted)."""

import pytest
from django.core.management import CommandError, call_command

from agents.models import Agent
from cases.models import CaseMessage, SupportCase
from cases.tests.factories import make_case


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


def test_seed_refuses_a_database_with_cases(refunds_team):
    make_case(refunds_team)

    with pytest.raises(CommandError, match="already has cases"):
        call_command("seed_benchmark", orders=1, cases=1)


def test_benchmark_needs_seeded_data(db):
    with pytest.raises(CommandError, match="Run seed_benchmark first"):
        call_command("benchmark_queue", runs=1)
