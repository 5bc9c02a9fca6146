"""A hundred agents press "Take next" at once: nobody gets a case twice.

The requests go through the real view in a hundred threads, each with its
own database connection, released together by a barrier. At most
IN_FLIGHT of them talk to the database at once, as behind a pool of server
workers, because the PostgreSQL server allows 100 connections in all. On
PostgreSQL they contend on row locks (SKIP LOCKED); on SQLite on the
database write lock.
"""

import threading
from collections import Counter

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from agents.models import Team
from agents.services import agent_create
from cases.models import AuditEvent, SupportCase
from cases.tests.factories import make_case

AGENTS = 100
IN_FLIGHT = 50


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_hundred_simultaneous_take_next_never_double_assign():
    team = Team.objects.create(name="Crowd", slug="crowd")
    agents = [
        agent_create(
            username=f"crowd{number}",
            password="pass-for-tests",
            display_name=f"Crowd {number}",
            teams=[team],
        )
        for number in range(AGENTS)
    ]
    # More agents than cases, so some requests must find the queue empty.
    cases = [make_case(team) for _ in range(AGENTS - 10)]
    clients = []
    for agent in agents:
        client = Client()
        client.force_login(agent.user)
        clients.append(client)
    barrier = threading.Barrier(AGENTS)
    workers = threading.BoundedSemaphore(IN_FLIGHT)
    locations: list[str] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def press(client: Client) -> None:
        try:
            barrier.wait(timeout=60)
            with workers:
                try:
                    response = client.post(reverse("cases:take-next"))
                finally:
                    connection.close()
            with lock:
                locations.append(response.headers.get("Location", ""))
        except BaseException as exc:  # reported below, with the others
            with lock:
                failures.append(exc)

    threads = [threading.Thread(target=press, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert failures == []
    assert len(locations) == AGENTS
    taken = [url for url in locations if url.startswith("/cases/")]
    assert len(taken) == len(cases)
    assert len(set(taken)) == len(taken)
    owners = Counter(
        SupportCase.objects.filter(team=team).values_list("assignee", flat=True)
    )
    assert None not in owners
    assert max(owners.values()) == 1
    assignments = Counter(
        AuditEvent.objects.filter(action="cases.case.assigned").values_list(
            "case_id", flat=True
        )
    )
    assert set(assignments.values()) == {1}
    assert len(assignments) == len(cases)
