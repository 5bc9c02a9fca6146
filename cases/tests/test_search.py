"""Full-text search over cases on SQLite FTS5 and PostgreSQL tsvectors."""

import pytest
from django.core.management import call_command
from django.db import connection

from agents.models import Team
from cases import services
from cases.audit import Actor
from cases.merging import case_merge
from cases.models import Customer, Order, SupportCase
from cases.search import filter_cases, fold, search_terms
from cases.tests.factories import make_case


def found(query: str) -> list[int]:
    cases = filter_cases(SupportCase.objects.all(), query, ranked=True)
    ordered = cases.order_by("-rank", "pk")  # type: ignore[misc]  # the plugin cannot see filter_cases's rank annotation
    return list(ordered.values_list("pk", flat=True))


def test_fold_removes_accents_and_case():
    assert (
        fold("Remboursement DEMANDÉ, colis abîmé")
        == "remboursement demande, colis abime"
    )


def test_search_terms_split_like_the_index():
    assert search_terms("ana.tester@example.com #1032") == [
        "ana",
        "tester",
        "example",
        "com",
        "1032",
    ]


@pytest.fixture
def team(db) -> Team:
    return Team.objects.create(name="Search", slug="search")


@pytest.mark.parametrize("query", ["demandé", "demande", "DEMANDE", "abîmé colis"])
def test_accents_and_case_do_not_matter(team, query):
    subject = "Remboursement demandé — colis abîmé, commande #1032"
    case = make_case(team, subject=subject)
    make_case(team, subject="Something else")

    assert found(query) == [case.pk]
    assert SupportCase.objects.get(pk=case.pk).subject == subject


def test_words_match_as_prefixes_and_all_must_match(team):
    case = make_case(team, subject="Refund for broken lamp")
    make_case(team, subject="Refund for a scarf")

    assert found("refun lam") == [case.pk]
    assert found("refund") and len(found("refund")) == 2


def test_messages_customer_and_order_are_searchable(team, agent):
    customer = Customer.objects.create(
        key="email:zoe@example.test", email="zoe@example.test", name="Zoë Tester"
    )
    order = Order.objects.create(
        number="#4411", number_key="4411", currency="EUR", financial_status="paid"
    )
    case = make_case(team, customer=customer, order=order, body="The box was wet")
    services.case_reply(case=case, actor=Actor.for_agent(agent), body="Sorry, quokka")

    for query in ["wet box", "quokka", "zoe", "zoe@example.test", "4411"]:
        assert found(query) == [case.pk], query


def test_case_reference_finds_the_case(team):
    make_case(team)
    case = make_case(team)

    assert case.pk in found(f"C-{case.pk}")


def test_query_without_words_finds_nothing(team):
    make_case(team)

    assert found("— !!") == []


def test_subject_match_ranks_above_body_match(team):
    in_body = make_case(team, subject="Question", body="my parcel never came")
    in_subject = make_case(team, subject="Parcel lost", body="hello")

    assert found("parcel") == [in_subject.pk, in_body.pk]


def test_merge_moves_the_text_to_the_target(team, agent):
    source = make_case(team, subject="Copy", body="unique-walrus text")
    target = make_case(team, subject="Original")

    case_merge(source=source, target=target, actor=Actor.for_agent(agent))

    assert found("walrus") == [target.pk]


def test_rebuild_command_restores_a_lost_index(team, capsys):
    case = make_case(team, subject="Heron sighting")
    table = (
        "cases_casesearchvector"
        if connection.vendor == "postgresql"
        else "cases_search_fts"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")
    assert found("heron") == []

    call_command("rebuild_search_index")

    assert found("heron") == [case.pk]
    assert "Indexed 1 cases." in capsys.readouterr().out


def test_symbols_become_code_point_words():
    assert search_terms("😀 parcel 📦!") == ["u01f600", "parcel", "u01f4e6"]


def test_emoji_finds_name_subject_and_message(team, agent):
    customer = Customer.objects.create(
        key="email:zoe@example.test", email="zoe@example.test", name="Zoë 😀 Tester"
    )
    by_name = make_case(team, subject="Question", customer=customer)
    by_subject = make_case(team, subject="Launch 🚀 delayed")
    by_message = make_case(team, subject="Other")
    services.case_reply(
        case=by_message, actor=Actor.for_agent(agent), body="Sorry 🚀 soon"
    )
    make_case(team, subject="Plain words only")

    assert found("😀") == [by_name.pk]
    assert sorted(found("🚀")) == sorted([by_subject.pk, by_message.pk])
    assert found("🚀 launch") == [by_subject.pk]
    assert found("📦") == []
