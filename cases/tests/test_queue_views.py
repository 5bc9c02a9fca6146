"""The queue page: views with cached counts, filters, take next, bulk actions."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agents.models import Team
from cases import services
from cases.audit import Actor
from cases.models import Customer, Order, SavedView, SlaPolicy, SupportCase
from cases.queue_views import QueuePaginator
from cases.tagging import case_tag_add
from cases.tests.factories import make_case, make_refund_request
from refunds.models import RefundRequest

QUEUE = reverse("cases:queue")
COUNTS = reverse("cases:queue-counts")


HTMX = {"HX-Request": "true"}


def count_of(html: str, key: str) -> str:
    match = re.search(rf'id="count-{key}"[^>]*>([^<]*)<', html)
    assert match, f"no count for {key}"
    return match.group(1)


def fill_queue(team: Team, agents, size: int) -> None:
    """Open ``size`` cases with their own customer, order, tags, due time and
    assignee; every third one has a refund request awaiting a decision."""
    SlaPolicy.objects.get_or_create(
        priority=SupportCase.Priority.NORMAL,
        defaults={"first_response_minutes": 60, "resolution_minutes": 600},
    )
    for number in range(size):
        customer = Customer.objects.create(
            key=f"email:c{number}-{size}-{team.pk}@example.test",
            name=f"Customer {number}",
        )
        order = Order.objects.create(
            number=f"#{team.pk}-{size}-{number}",
            number_key=f"{team.pk}-{size}-{number}",
            currency="EUR",
            financial_status="paid",
            customer=customer,
        )
        case = make_case(team, customer=customer, order=order)
        owner = agents[(number // 2) % len(agents)]
        case_tag_add(case=case, actor=Actor.for_agent(owner), name=f"tag-{number % 4}")
        if number % 2:
            services.case_assign(
                case=case, actor=Actor.for_agent(owner), assignee=owner
            )
        if number % 3 == 0:
            make_refund_request(case, order)


def forget_counts() -> None:
    """Drop the cached counts but keep cached sessions, as a real expiry would."""
    delete_pattern = getattr(cache, "delete_pattern", None)
    if delete_pattern is None:
        cache.clear()
    else:
        delete_pattern("queue-*")


def queries_for(client, url: str) -> int:
    headers = HTMX if url == COUNTS else {}
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "url",
    [
        QUEUE,
        f"{QUEUE}?view=mine",
        f"{QUEUE}?view=refunds&sort=oldest",
        f"{QUEUE}?view=breaching&status=all&tag=tag-1",
        f"{QUEUE}?q=parcel",
        COUNTS,
    ],
)
def test_queue_queries_do_not_grow_with_data(
    url, agent_client, agent, make_agent, refunds_team, general_team
):
    agents = [agent, make_agent("Bo Agent"), make_agent("Cy Agent")]
    fill_queue(refunds_team, agents, 3)
    cold_small = queries_for(agent_client, url)
    warm_small = queries_for(agent_client, url)

    fill_queue(refunds_team, agents, 25)
    fill_queue(general_team, agents, 5)
    case = SupportCase.objects.first()
    assert case is not None
    services.case_add_note(case=case, actor=Actor.for_agent(agent), body="x")
    forget_counts()
    cold_large = queries_for(agent_client, url)
    warm_large = queries_for(agent_client, url)

    assert cold_large == cold_small
    assert warm_large == warm_small
    assert warm_small < cold_small


def test_queue_page_query_budget(agent_client, agent, refunds_team):
    fill_queue(refunds_team, [agent], 30)
    queries_for(agent_client, QUEUE)

    # Session (none when Redis caches it), user, agent, teams, saved views,
    # the assignee choices, the capped count, the page of cases and their
    # tags; the counts come from the cache.
    assert queries_for(agent_client, QUEUE) <= 9


def test_counts_are_cached_until_a_case_changes(
    agent_client, agent, refunds_team, django_capture_on_commit_callbacks
):
    make_case(refunds_team)
    first = agent_client.get(COUNTS, headers=HTMX).content.decode()
    assert count_of(first, "mine") == "0"
    assert count_of(first, "unassigned") == "1"

    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(reverse("cases:take-next"))
    after = agent_client.get(COUNTS, headers=HTMX).content.decode()

    assert count_of(after, "mine") == "1"
    assert count_of(after, "unassigned") == "0"


def test_counts_stay_cached_without_a_change(agent_client, agent, refunds_team):
    case = make_case(refunds_team)
    agent_client.get(COUNTS, headers=HTMX)
    # A write that bypasses the services does not expire the counts.
    SupportCase.objects.filter(pk=case.pk).update(assignee=agent)

    stale = agent_client.get(COUNTS, headers=HTMX).content.decode()

    assert count_of(stale, "mine") == "0"


def test_note_keeps_counts_cached(
    agent_client, agent, refunds_team, django_capture_on_commit_callbacks
):
    case = make_case(refunds_team)
    agent_client.get(COUNTS, headers=HTMX)
    # A write that bypasses the services, to tell a cached count from a
    # fresh one.
    SupportCase.objects.filter(pk=case.pk).update(assignee=agent)

    with django_capture_on_commit_callbacks(execute=True):
        services.case_add_note(case=case, actor=Actor.for_agent(agent), body="x")
    after = agent_client.get(COUNTS, headers=HTMX).content.decode()

    assert count_of(after, "mine") == "0"


def test_note_expires_search_counts(
    agent_client, agent, refunds_team, django_capture_on_commit_callbacks
):
    case = make_case(refunds_team)
    view = SavedView.objects.create(
        agent=agent, name="Couriers", query="q=courier&status=all"
    )
    before = agent_client.get(COUNTS, headers=HTMX).content.decode()
    assert count_of(before, f"saved-{view.pk}") == "0"

    with django_capture_on_commit_callbacks(execute=True):
        services.case_add_note(
            case=case, actor=Actor.for_agent(agent), body="Called the courier."
        )
    after = agent_client.get(COUNTS, headers=HTMX).content.decode()

    assert count_of(after, f"saved-{view.pk}") == "1"


def test_first_reply_with_sla_expires_counts(
    agent_client, agent, refunds_team, django_capture_on_commit_callbacks
):
    SlaPolicy.objects.create(
        priority=SupportCase.Priority.NORMAL,
        first_response_minutes=60,
        resolution_minutes=600,
    )
    case = make_case(refunds_team)
    agent_client.get(COUNTS, headers=HTMX)
    SupportCase.objects.filter(pk=case.pk).update(assignee=agent)

    with django_capture_on_commit_callbacks(execute=True):
        # The first reply meets the first-response target, which moves the
        # case's due time and so the "breaching soon" count.
        services.case_reply(case=case, actor=Actor.for_agent(agent), body="Hello")
    after = agent_client.get(COUNTS, headers=HTMX).content.decode()

    assert count_of(after, "mine") == "1"


def test_customer_message_reopening_expires_counts(
    agent_client, agent, refunds_team, django_capture_on_commit_callbacks
):
    case = make_case(refunds_team)
    SupportCase.objects.filter(pk=case.pk).update(status=SupportCase.Status.PENDING)
    case.refresh_from_db()
    agent_client.get(COUNTS, headers=HTMX)
    SupportCase.objects.filter(pk=case.pk).update(assignee=agent)

    with django_capture_on_commit_callbacks(execute=True):
        services.case_add_customer_message(
            case=case, actor=Actor.customer("Ada"), body="Still waiting."
        )
    after = agent_client.get(COUNTS, headers=HTMX).content.decode()

    assert SupportCase.objects.get(pk=case.pk).status == SupportCase.Status.OPEN
    assert count_of(after, "mine") == "1"


def test_counts_shared_by_agents_of_a_team(
    client, agent_client, agent, make_agent, refunds_team
):
    fill_queue(refunds_team, [agent], 5)
    queries_for(agent_client, COUNTS)
    warm = queries_for(agent_client, COUNTS)
    colleague = make_agent("Bo Agent")
    client.force_login(colleague.user)

    # The colleague's first poll counts only their own cases and whether
    # they have cases in other teams; the team's views come from the cache.
    first = queries_for(client, COUNTS)

    assert first == warm + 2


def test_counts_include_cases_assigned_in_other_teams(
    agent_client, agent, refunds_team, general_team, django_capture_on_commit_callbacks
):
    make_case(refunds_team)
    elsewhere = make_case(general_team)
    before = agent_client.get(COUNTS, headers=HTMX).content.decode()
    assert count_of(before, "all") == "1"

    with django_capture_on_commit_callbacks(execute=True):
        services.case_assign(
            case=elsewhere,
            actor=Actor.for_agent(agent),
            assignee=agent,
            take_over=False,
        )
    after = agent_client.get(COUNTS, headers=HTMX).content.decode()

    assert count_of(after, "all") == "2"
    assert count_of(after, "mine") == "1"


def test_refund_decision_expires_its_assignees_counts(
    agent_client, agent, general_team, django_capture_on_commit_callbacks
):
    case = make_case(general_team)
    SupportCase.objects.filter(pk=case.pk).update(assignee=agent)
    order = Order.objects.create(
        number="#9", number_key="9", currency="USD", financial_status="paid"
    )
    refund = make_refund_request(case, order)
    before = agent_client.get(COUNTS, headers=HTMX).content.decode()
    assert count_of(before, "refunds") == "1"

    with django_capture_on_commit_callbacks(execute=True):
        refund.status = RefundRequest.Status.REJECTED
        refund.save(update_fields=["status"])
    after = agent_client.get(COUNTS, headers=HTMX).content.decode()

    assert count_of(after, "refunds") == "0"


def test_counts_are_oob_swaps(agent_client, refunds_team):
    response = agent_client.get(COUNTS, headers=HTMX)

    assert b'hx-swap-oob="true"' in response.content
    assert b"<html" not in response.content


def test_counts_without_htmx_redirect_to_the_queue(agent_client):
    response = agent_client.get(COUNTS)

    assert response.status_code == 302
    assert response["Location"] == QUEUE


def test_views_filter_cases(agent_client, agent, refunds_team, general_team):
    mine = make_case(refunds_team, subject="Mine")
    services.case_assign(case=mine, actor=Actor.for_agent(agent), assignee=agent)
    waiting = make_case(refunds_team, subject="Waiting")
    make_case(general_team, subject="Elsewhere")
    due = make_case(refunds_team, subject="Due soon")
    SupportCase.objects.filter(pk=due.pk).update(
        sla_due_at=timezone.now() + timedelta(minutes=30)
    )
    cases = {
        "mine": {mine.subject},
        "unassigned": {waiting.subject, due.subject},
        f"team-{refunds_team.pk}": {mine.subject, waiting.subject, due.subject},
        "breaching": {due.subject},
        # The agent is not in the general team, so its case stays hidden.
        "all": {mine.subject, waiting.subject, due.subject},
    }

    for view, subjects in cases.items():
        page = agent_client.get(QUEUE, {"view": view})
        shown = {case.subject for case in page.context["page"].object_list}
        assert shown == subjects, view


def test_refunds_view_lists_cases_awaiting_a_decision(agent_client, refunds_team):
    case = make_case(refunds_team, subject="Refund please")
    make_case(refunds_team, subject="Question")
    order = Order.objects.create(
        number="#1", number_key="1", currency="USD", financial_status="paid"
    )
    make_refund_request(case, order)

    page = agent_client.get(QUEUE, {"view": "refunds"})

    assert [c.subject for c in page.context["page"].object_list] == ["Refund please"]


def test_unknown_view_falls_back_to_all(agent_client, refunds_team, general_team):
    make_case(refunds_team)

    page = agent_client.get(QUEUE, {"view": f"team-{general_team.pk}"})

    assert page.context["filters"].view == "all"


def test_htmx_page_change_returns_fragment_but_history_restore_full_page(
    agent_client, refunds_team
):
    make_case(refunds_team)

    fragment = agent_client.get(QUEUE, {"page": "1"}, headers={"HX-Request": "true"})
    restore = agent_client.get(
        QUEUE,
        {"page": "1"},
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )

    assert b'<section id="queue-results"' in fragment.content
    assert b"<html" not in fragment.content
    assert b"<html" in restore.content


def test_take_next_redirects_to_the_case(agent_client, agent, refunds_team):
    case = make_case(refunds_team)

    response = agent_client.post(reverse("cases:take-next"))

    assert response.status_code == 302
    assert response["Location"] == reverse("cases:detail", args=[case.reference])
    assert SupportCase.objects.get(pk=case.pk).assignee == agent


def test_take_next_with_empty_queue_goes_back_with_a_message(agent_client):
    response = agent_client.post(
        reverse("cases:take-next"), {"next": f"{QUEUE}?view=mine"}, follow=True
    )

    assert response.redirect_chain[-1][0] == f"{QUEUE}?view=mine"
    assert b"No case is waiting in your teams" in response.content


def test_take_next_ignores_a_foreign_next_url(agent_client):
    response = agent_client.post(
        reverse("cases:take-next"), {"next": "https://evil.example/queue/"}
    )

    assert response["Location"] == QUEUE


def test_saved_view_is_listed_with_its_count(agent_client, agent, refunds_team):
    make_case(refunds_team, priority=SupportCase.Priority.URGENT)
    make_case(refunds_team)

    response = agent_client.post(
        reverse("cases:view-create"),
        {"name": "Urgent", "query": "priority=4&page=3"},
        follow=True,
    )

    view = SavedView.objects.get(agent=agent)
    assert view.query == "priority=4"
    html = response.content.decode()
    assert count_of(html, f"saved-{view.pk}") == "1"
    assert "Urgent" in html


def test_saved_view_names_are_unique_per_agent(agent_client, agent):
    SavedView.objects.create(agent=agent, name="Mine", query="view=mine")

    response = agent_client.post(
        reverse("cases:view-create"), {"name": "Mine", "query": ""}, follow=True
    )

    assert b"already have a view called" in response.content
    assert SavedView.objects.filter(agent=agent).count() == 1


def test_agent_cannot_delete_another_agents_view(agent_client, make_agent):
    other = make_agent("Other")
    view = SavedView.objects.create(agent=other, name="Theirs", query="")

    response = agent_client.post(
        reverse("cases:view-delete", args=[view.pk]), follow=True
    )

    assert b"does not exist" in response.content
    assert SavedView.objects.filter(pk=view.pk).exists()


def test_agent_deletes_own_view(agent_client, agent):
    view = SavedView.objects.create(agent=agent, name="Mine", query="view=mine")

    agent_client.post(reverse("cases:view-delete", args=[view.pk]))

    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_bulk_assign_to_me(agent_client, agent, refunds_team):
    first, second = make_case(refunds_team), make_case(refunds_team)

    response = agent_client.post(
        reverse("cases:bulk"),
        {"case": [first.pk, second.pk], "action": "assign", "assignee": "me"},
        follow=True,
    )

    assert SupportCase.objects.filter(assignee=agent).count() == 2
    assert b"Changed 2 cases." in response.content


def test_bulk_assign_reports_owned_cases_without_take_over(
    agent_client, agent, make_agent, refunds_team
):
    other = make_agent("Olga Other")
    owned = make_case(refunds_team)
    services.case_assign(case=owned, actor=Actor.for_agent(other), assignee=other)
    free = make_case(refunds_team)

    response = agent_client.post(
        reverse("cases:bulk"),
        {"case": [owned.pk, free.pk], "action": "assign", "assignee": "me"},
        follow=True,
    )

    assert SupportCase.objects.get(pk=owned.pk).assignee == other
    assert SupportCase.objects.get(pk=free.pk).assignee == agent
    assert f"{owned.reference} was not changed: Olga Other already has".encode() in (
        response.content
    )


def test_bulk_status_and_tag(agent_client, refunds_team):
    cases = [make_case(refunds_team) for _ in range(3)]
    ids = [case.pk for case in cases]

    agent_client.post(
        reverse("cases:bulk"), {"case": ids, "action": "status", "status": "pending"}
    )
    agent_client.post(
        reverse("cases:bulk"), {"case": ids, "action": "tag", "tag": "Damaged"}
    )

    for case in SupportCase.objects.filter(pk__in=ids):
        assert case.status == "pending"
        assert [tag.name for tag in case.tags.all()] == ["Damaged"]


def test_bulk_ignores_cases_the_agent_cannot_see(
    agent_client, make_agent, general_team
):
    hidden = make_case(general_team)

    agent_client.post(
        reverse("cases:bulk"),
        {"case": [hidden.pk], "action": "status", "status": "pending"},
    )

    assert SupportCase.objects.get(pk=hidden.pk).status == "open"


def test_bulk_without_selection_explains(agent_client):
    response = agent_client.post(
        reverse("cases:bulk"), {"action": "status", "status": "solved"}, follow=True
    )

    assert b"Select at least one case." in response.content


def test_queue_search_finds_accented_words(agent_client, refunds_team):
    make_case(refunds_team, subject="Remboursement demandé — colis abîmé")
    make_case(refunds_team, subject="Autre chose")

    page = agent_client.get(QUEUE, {"q": "demande"})

    assert [c.subject for c in page.context["page"].object_list] == [
        "Remboursement demandé — colis abîmé"
    ]


def test_queue_search_finds_emoji(agent_client, refunds_team):
    make_case(refunds_team, subject="Launch 🚀 delayed")
    make_case(refunds_team, subject="Launch on time")

    page = agent_client.get(QUEUE, {"q": "🚀"})

    assert [c.subject for c in page.context["page"].object_list] == [
        "Launch 🚀 delayed"
    ]


def test_view_counts_are_pluralized(agent_client, refunds_team):
    make_case(refunds_team)

    html = agent_client.get(QUEUE, {"view": "all"}).content.decode()

    assert re.search(r'id="count-all"[^>]*>1<span class="visually-hidden"> case<', html)
    assert re.search(
        r'id="count-mine"[^>]*>0<span class="visually-hidden"> cases<', html
    )


def test_refund_decision_expires_the_refunds_count(
    agent_client, refunds_team, django_capture_on_commit_callbacks
):
    case = make_case(refunds_team)
    order = Order.objects.create(
        number="#9", number_key="9", currency="USD", financial_status="paid"
    )
    refund = make_refund_request(case, order)
    before = agent_client.get(COUNTS, headers=HTMX).content.decode()
    assert count_of(before, "refunds") == "1"

    with django_capture_on_commit_callbacks(execute=True):
        refund.status = RefundRequest.Status.REJECTED
        refund.save(update_fields=["status"])

    after = agent_client.get(COUNTS, headers=HTMX).content.decode()
    assert count_of(after, "refunds") == "0"


def test_too_many_search_matches_keep_urgency_order(
    agent_client, refunds_team, monkeypatch
):
    monkeypatch.setattr(QueuePaginator, "count_cap", 2)
    for _ in range(3):
        make_case(refunds_team, subject="Common words everywhere")

    page = agent_client.get(QUEUE, {"q": "common"})

    assert page.context["unranked"] is True
    assert page.context["filters"].sort == "due"
    assert b"too many to sort by best match" in page.content
    assert b"More than 2 cases" in page.content


def test_few_search_matches_are_ranked(agent_client, refunds_team):
    make_case(refunds_team, subject="Rare heron")

    page = agent_client.get(QUEUE, {"q": "heron"})

    assert page.context["unranked"] is False
    assert page.context["filters"].sort == "relevance"


def test_agent_status_form_returns_cases(agent_client, agent, refunds_team):
    case = make_case(refunds_team)
    services.case_assign(case=case, actor=Actor.for_agent(agent), assignee=agent)

    response = agent_client.post(
        reverse("cases:agent-status"),
        {"status": "offline", "return_cases": "on", "next": f"{QUEUE}?view=mine"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == f"{QUEUE}?view=mine"
    assert b"Your status is now offline. 1 case went back to the queue." in (
        response.content
    )
    assert SupportCase.objects.get(pk=case.pk).assignee is None


def test_agent_status_form_rejects_unknown_status(agent_client, agent):
    response = agent_client.post(
        reverse("cases:agent-status"), {"status": "asleep"}, follow=True
    )

    assert b"Choose available, away or offline." in response.content
    agent.refresh_from_db()
    assert agent.status == "available"
