"""``manage.py benchmark_queue``: time the queue pages on the current database.

Each page is requested through Django's test client, in this process, as
the first agent who is not a supervisor. For every page the command
prints the SQL queries of one request and the median and 95th percentile
of the response time, with the counts cached (warm) and without (cold).
"""

from __future__ import annotations

import platform
import statistics
import time

from django.conf import settings
from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from agents.models import Agent
from cases.management.commands.seed_benchmark import vocabulary_word
from cases.models import SupportCase

PAGES = [
    ("queue, all active", "cases:queue", ""),
    ("queue, my cases", "cases:queue", "view=mine"),
    ("queue, unassigned", "cases:queue", "view=unassigned"),
    ("queue, breaching soon", "cases:queue", "view=breaching"),
    ("queue, refunds awaiting", "cases:queue", "view=refunds"),
    ("queue, all statuses, page 40", "cases:queue", "status=all&page=40"),
    ("queue, search a common word", "cases:queue", "q=parcel&status=all"),
    (
        "queue, search two rarer words",
        "cases:queue",
        f"q={vocabulary_word(300)}+{vocabulary_word(1200)}&status=all",
    ),
    ("queue, tag filter", "cases:queue", "tag=vip&status=all"),
    ("view counts", "cases:queue-counts", ""),
]


def _empty_cache() -> None:
    # django-redis deletes only this site's prefixed keys; clear() would
    # flush the whole Redis database.
    delete_pattern = getattr(cache, "delete_pattern", None)
    if delete_pattern is not None:
        delete_pattern("*")
    else:
        cache.clear()


class Command(BaseCommand):
    help = "Time the queue pages and count their SQL queries on this database."

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=20, help="Requests per page.")

    def handle(self, *args, **options):
        agent = Agent.objects.filter(is_supervisor=False).order_by("pk").first()
        if agent is None or not SupportCase.objects.exists():
            raise CommandError("No agent or no cases. Run seed_benchmark first.")
        self.stdout.write(
            f"{connection.vendor}, {SupportCase.objects.count()} cases, "
            f"{platform.processor() or platform.machine()}, "
            f"Python {platform.python_version()}, {options['runs']} runs per page"
        )
        self.stdout.write(
            f"{'page':32} {'queries':>7} {'cold median':>12} {'warm median':>12} "
            f"{'warm p95':>9}"
        )
        # The test client's host, plain HTTP, and static URLs without the
        # manifest that only collectstatic writes.
        storages = {
            **settings.STORAGES,
            "staticfiles": {
                "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
            },
        }
        with override_settings(
            ALLOWED_HOSTS=["testserver"], SECURE_SSL_REDIRECT=False, STORAGES=storages
        ):
            client = Client()
            client.force_login(agent.user)
            for label, name, query in PAGES:
                self._measure(
                    client, label, f"{reverse(name)}?{query}", options["runs"]
                )
            self._take_next(agent, options["runs"])

    def _measure(self, client: Client, label: str, url: str, runs: int) -> None:
        cold, warm = [], []
        for _ in range(runs):
            _empty_cache()
            cold.append(self._time(client, url))
            warm.append(self._time(client, url))
        with CaptureQueriesContext(connection) as queries:
            client.get(url, headers=self._headers(url))
        self.stdout.write(
            f"{label:32} {len(queries):>7} {statistics.median(cold):>10.1f}ms "
            f"{statistics.median(warm):>10.1f}ms {self._p95(warm):>7.1f}ms"
        )

    def _time(self, client: Client, url: str) -> float:
        start = time.perf_counter()
        response = client.get(url, headers=self._headers(url))
        elapsed = (time.perf_counter() - start) * 1000
        if response.status_code != 200:
            raise CommandError(f"{url} returned {response.status_code}.")
        return elapsed

    @staticmethod
    def _headers(url: str) -> dict[str, str]:
        # htmx polls the counts; a plain request is redirected to the queue.
        return (
            {"HX-Request": "true"}
            if url.startswith(reverse("cases:queue-counts"))
            else {}
        )

    def _take_next(self, agent: Agent, runs: int) -> None:
        client = Client()
        client.force_login(agent.user)
        url = reverse("cases:take-next")
        timings = []
        for _ in range(runs):
            start = time.perf_counter()
            client.post(url)
            timings.append((time.perf_counter() - start) * 1000)
        self.stdout.write(
            f"{'take next (POST)':32} {'':>7} {'':>12} "
            f"{statistics.median(timings):>10.1f}ms {self._p95(timings):>7.1f}ms"
        )

    @staticmethod
    def _p95(values: list[float]) -> float:
        return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]
