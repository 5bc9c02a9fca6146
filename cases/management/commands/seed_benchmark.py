"""``manage.py seed_benchmark``: fill an empty database with a large desk.

The rows are written with bulk inserts, not through the services, so that
half a million orders take minutes rather than hours. No audit entries are
written, and the search documents are built with one SQL statement per
batch from the subject and the messages.

There is one customer per five orders. Order ``#B<m>`` belongs to customer
``m % customers``, whose email is ``bench<m % customers>@example.test``, so
the public refund form finds it with that address. Every order has two
lines. Agents log in as ``bench<n>`` and integrations as ``bench-api<n>``,
with the ``--password`` given.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import cast

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from agents.models import Agent, Membership, Team
from agents.roles import INTEGRATIONS_GROUP
from cases.models import CaseMessage, Customer, Order, OrderLine, SupportCase, Tag
from refunds.models import RefundRequest

# Everyday support words first, then made-up words. As in real text (Zipf's
# law), the n-th word is used about 1/n as often as the first.
COMMON_WORDS = [
    "parcel",
    "refund",
    "broken",
    "late",
    "missing",
    "wrong",
    "size",
    "colour",
    "damaged",
    "invoice",
    "tracking",
    "courier",
    "lamp",
    "scarf",
    "jacket",
    "mug",
    "kettle",
    "battery",
    "charger",
    "return",
    "exchange",
    "voucher",
    "discount",
    "address",
    "delivery",
]
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "pe", "shu"]
VOCABULARY_SIZE = 5_000


def vocabulary_word(rank: int) -> str:
    """Return the word of frequency rank ``rank`` (0 is the most frequent)."""
    if rank < len(COMMON_WORDS):
        return COMMON_WORDS[rank]
    word, number = "", rank
    for _ in range(4):
        number, index = divmod(number, len(SYLLABLES))
        word += SYLLABLES[index]
    return word


def customer_email(n: int) -> str:
    return f"bench{n}@example.test"


# Two lines per order, 30.00 and 2 × 10.00, summing to the order's 50.00.
ORDER_LINES = [
    {
        "position": 1,
        "name": "Bench lamp",
        "sku": "BENCH-LAMP",
        "quantity": 1,
        "unit_price_minor": 3_000,
        "total_minor": 3_000,
    },
    {
        "position": 2,
        "name": "Bench mug",
        "sku": "BENCH-MUG",
        "quantity": 2,
        "unit_price_minor": 1_000,
        "total_minor": 2_000,
    },
]
VOCABULARY = [vocabulary_word(rank) for rank in range(VOCABULARY_SIZE)]
ZIPF_WEIGHTS = [1 / (rank + 1) for rank in range(VOCABULARY_SIZE)]
STATUSES = [
    # (status, share of cases)
    (SupportCase.Status.OPEN, 0.15),
    (SupportCase.Status.PENDING, 0.10),
    (SupportCase.Status.ON_HOLD, 0.05),
    (SupportCase.Status.SOLVED, 0.30),
    (SupportCase.Status.CLOSED, 0.40),
]


class Command(BaseCommand):
    help = (
        "Fill an empty database with teams, agents, customers, orders, cases, "
        "messages and refund requests for benchmarks. Refuses a database that "
        "already has cases."
    )

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=500_000)
        parser.add_argument("--cases", type=int, default=100_000)
        parser.add_argument("--agents", type=int, default=100)
        parser.add_argument("--teams", type=int, default=5)
        parser.add_argument(
            "--integrations",
            type=int,
            default=0,
            help="API users in the Integrations group, named bench-api<n>.",
        )
        parser.add_argument(
            "--password",
            default=None,
            help="Password of every seeded user. Without one, no user can log in.",
        )
        parser.add_argument("--batch", type=int, default=5_000)
        parser.add_argument("--seed", type=int, default=1, help="Random seed.")

    def handle(self, *args, **options):
        if SupportCase.objects.exists():
            raise CommandError(
                "The database already has cases. Point DATABASE_URL at an empty "
                "database made for benchmarks."
            )
        self.random = random.Random(options["seed"])
        self.batch = options["batch"]
        # Hash once and reuse it for every user, because hashing is deliberately slow.
        self.password_hash = (
            make_password(options["password"]) if options["password"] else "!"
        )
        teams = self._teams(options["teams"])
        agents = self._agents(options["agents"], teams)
        # Cases are assigned to agents of their own team, as take next and
        # automatic assignment do.
        self.members: dict[int, list[Agent]] = {team.pk: [] for team in teams}
        for membership in Membership.objects.filter(agent__in=agents):
            self.members[membership.team_id].append(membership.agent)
        self._integrations(options["integrations"])
        customer_ids = self._customers(max(options["orders"] // 5, 1))
        order_ids = self._orders(options["orders"], customer_ids)
        self._cases(options["cases"], teams, order_ids, customer_ids)
        self._index()
        self.stdout.write(
            f"Seeded {len(teams)} teams, {len(agents)} agents, {len(customer_ids)} "
            f"customers, {len(order_ids)} orders and {options['cases']} cases."
        )

    def _teams(self, count: int) -> list[Team]:
        return [
            Team.objects.create(
                name=f"Team {n}", slug=f"team-{n}", handles_refunds=n == 0
            )
            for n in range(count)
        ]

    def _agents(self, count: int, teams: list[Team]) -> list[Agent]:
        users = get_user_model().objects.bulk_create(
            get_user_model()(username=f"bench{n}", password=self.password_hash)
            for n in range(count)
        )
        agents = Agent.objects.bulk_create(
            Agent(
                user=user,
                display_name=f"Bench Agent {n}",
                status=Agent.Status.AVAILABLE,
            )
            for n, user in enumerate(users)
        )
        Membership.objects.bulk_create(
            Membership(agent=agent, team=teams[(n + k) % len(teams)])
            for n, agent in enumerate(agents)
            for k in range(2)
        )
        return agents

    def _integrations(self, count: int) -> None:
        if not count:
            return
        users = get_user_model().objects.bulk_create(
            get_user_model()(username=f"bench-api{n}", password=self.password_hash)
            for n in range(count)
        )
        group, _ = Group.objects.get_or_create(name=INTEGRATIONS_GROUP)
        group.user_set.add(*users)

    def _customers(self, count: int) -> list[int]:
        ids: list[int] = []
        for start in range(0, count, self.batch):
            rows = Customer.objects.bulk_create(
                Customer(
                    key=f"email:{customer_email(n)}",
                    email=customer_email(n),
                    name=f"Customer {n}",
                )
                for n in range(start, min(start + self.batch, count))
            )
            ids += [row.pk for row in rows]
        return ids

    def _orders(self, count: int, customer_ids: list[int]) -> list[int]:
        now = timezone.now()
        ids: list[int] = []
        for start in range(0, count, self.batch):
            with transaction.atomic():
                rows = Order.objects.bulk_create(
                    Order(
                        number=f"#B{n}",
                        number_key=f"b{n}",
                        currency="USD",
                        financial_status=Order.FinancialStatus.PAID,
                        customer_id=customer_ids[n % len(customer_ids)],
                        email=customer_email(n % len(customer_ids)),
                        email_key=customer_email(n % len(customer_ids)),
                        customer_name=f"Customer {n % len(customer_ids)}",
                        placed_at=now - timedelta(minutes=n),
                        subtotal_minor=5_000,
                        total_minor=5_000,
                        paid_minor=5_000,
                    )
                    for n in range(start, min(start + self.batch, count))
                )
                OrderLine.objects.bulk_create(
                    OrderLine(order=order, **line)
                    for order in rows
                    for line in ORDER_LINES
                )
            ids += [row.pk for row in rows]
        self.stdout.write(f"{len(ids)} orders written.")
        return ids

    def _cases(self, count, teams, order_ids, customer_ids) -> None:
        now = timezone.now()
        pick = self.random
        statuses = [status for status, _ in STATUSES]
        weights = [share for _, share in STATUSES]
        tag = Tag.objects.create(name="vip")
        for start in range(0, count, self.batch):
            with transaction.atomic():
                cases = []
                for n in range(start, min(start + self.batch, count)):
                    status = pick.choices(statuses, weights)[0]
                    active = status in SupportCase.ACTIVE_STATUSES
                    order_id = order_ids[n % len(order_ids)]
                    # The customer of order n, as _orders() assigned it.
                    customer_id = customer_ids[n % len(order_ids) % len(customer_ids)]
                    created = now - timedelta(minutes=pick.randint(0, 60 * 24 * 365))
                    cases.append(
                        SupportCase(
                            subject=self._text(4),
                            status=status,
                            priority=pick.randint(1, 4),
                            channel=SupportCase.Channel.EMAIL,
                            team=teams[n % len(teams)],
                            assignee=pick.choice(self.members[teams[n % len(teams)].pk])
                            if not active or pick.random() < 0.7
                            else None,
                            order_id=order_id,
                            customer_id=customer_id,
                            created_at=created,
                            updated_at=created,
                            # Each case gets a reply below, so it has a first response.
                            first_response_at=created + timedelta(minutes=30),
                            sla_due_at=now + timedelta(minutes=pick.randint(-600, 6000))
                            if status in (SupportCase.Status.OPEN, "on_hold")
                            else None,
                        )
                    )
                cases = SupportCase.objects.bulk_create(cases)
                CaseMessage.objects.bulk_create(
                    CaseMessage(
                        case=case,
                        kind=kind,
                        body=self._text(12),
                        created_at=case.created_at,
                    )
                    for case in cases
                    for kind in (CaseMessage.Kind.CUSTOMER, CaseMessage.Kind.REPLY)
                )
                SupportCase.tags.through.objects.bulk_create(
                    SupportCase.tags.through(supportcase=case, tag=tag)
                    for case in cases[::10]
                )
                RefundRequest.objects.bulk_create(
                    RefundRequest(
                        # Every case built above has an order.
                        order_id=cast(int, case.order_id),
                        customer_id=case.customer_id,
                        case=case,
                        reason_code=RefundRequest.Reason.DAMAGED,
                        currency="USD",
                        requested_minor=1_000,
                        outcome=RefundRequest.Outcome.NEEDS_AGENT,
                        status=RefundRequest.Status.REQUESTED
                        if case.is_active
                        else RefundRequest.Status.REFUNDED,
                    )
                    for case in cases[::7]
                )
            self.stdout.write(f"{start + len(cases)} cases written.")

    def _text(self, length: int) -> str:
        return " ".join(self.random.choices(VOCABULARY, ZIPF_WEIGHTS, k=length))

    def _index(self) -> None:
        """Build every search document in SQL; the seeded text has no accents."""
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "INSERT INTO cases_casesearchvector (case_id, document) "
                    "SELECT c.id, setweight(to_tsvector('simple', c.subject), 'A') || "
                    "setweight(to_tsvector('simple', string_agg(m.body, ' ')), 'B') "
                    "FROM cases_supportcase c JOIN cases_casemessage m "
                    "ON m.case_id = c.id GROUP BY c.id, c.subject"
                )
                cursor.execute("ANALYZE")
            else:
                cursor.execute(
                    "INSERT INTO cases_search_fts (rowid, subject, body) "
                    "SELECT c.id, c.subject, group_concat(m.body, ' ') "
                    "FROM cases_supportcase c JOIN cases_casemessage m "
                    "ON m.case_id = c.id GROUP BY c.id"
                )
                cursor.execute("ANALYZE")
        self.stdout.write("Search documents built.")
