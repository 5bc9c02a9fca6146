"""``manage.py seed_demo``: a working desk with demo agents, policy and orders."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from agents.models import Team
from agents.services import agent_create
from cases.audit import Actor
from cases.macros.models import Macro
from cases.models import Order, SlaPolicy, SupportCase
from cases.order_import import orders_import
from cases.services import case_create
from cases.shopify_export import parse_export
from refunds.models import RefundPolicy, RefundRequest
from refunds.services import NotEligible, refund_request_create

SAMPLE = Path(__file__).resolve().parents[2] / "demo_data" / "shopify-orders-sample.csv"
TIMESTAMP_COLUMNS = ("Created at", "Paid at", "Fulfilled at", "Cancelled at")
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S %z"

DEMO_AGENTS = [
    # username, display name, supervisor, approval limit, teams
    ("sam", "Sam Supervisor", True, Decimal("1000"), ["refunds", "general"]),
    ("alex", "Alex Agent", False, Decimal("150"), ["refunds", "general"]),
    ("jo", "Jo Agent", False, Decimal("50"), ["general"]),
]


def shifted_sample(now: datetime) -> bytes:
    """Return the bundled export, dated so that its newest order is two days old.

    The sample is a real, anonymized export from 2019 to 2022; shifting every
    time stamp by the same amount keeps its gaps and quirks while opening
    the return window of the latest orders.
    """
    text = SAMPLE.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, body = rows[0], rows[1:]
    indexes = [header.index(name) for name in TIMESTAMP_COLUMNS if name in header]
    created = header.index("Created at")
    newest = max(
        datetime.strptime(row[created], TIMESTAMP_FORMAT)
        for row in body
        if row[created]
    )
    delta = (now - timedelta(days=2)) - newest
    for row in body:
        for index in indexes:
            if row[index]:
                row[index] = (
                    datetime.strptime(row[index], TIMESTAMP_FORMAT) + delta
                ).strftime(TIMESTAMP_FORMAT)
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


class Command(BaseCommand):
    help = (
        "Create demo teams, agents (credentials are printed), a refund policy and "
        "sample cases, and import the bundled sample export. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            default="supportdesk-demo",
            help="Password of every demo agent (default: %(default)s). For demos only.",
        )

    def handle(self, *args, **options):
        now = timezone.now()
        with transaction.atomic():
            teams = self._teams()
            self._agents(teams, options["password"])
            self._policy()
            self._sla_policies()
            self._macros()
        self._sample_orders(now)
        self._sample_cases(teams)
        self._print_credentials(options["password"])

    def _sample_orders(self, now: datetime) -> None:
        """Import the sample export once; a later run keeps the orders as they are.

        Importing again would move every date to the new run's time and
        compare the file's refunded amounts with refunds made in the demo
        since, which opens reconciliation flags for them.
        """
        if Order.objects.exists():
            self.stdout.write(
                "Orders exist already; the sample export was not imported again."
            )
            return
        orders = parse_export(
            io.BytesIO(shifted_sample(now)),
            source=SAMPLE.name,
            default_currency="USD",
            time_zone=settings.TIME_ZONE,
        )
        summary = orders_import(orders)
        self.stdout.write(
            f"Imported {summary.orders} sample orders ({summary.orders_created} new)."
        )

    def _teams(self) -> dict[str, Team]:
        refunds, _ = Team.objects.get_or_create(
            slug="refunds", defaults={"name": "Refunds", "handles_refunds": True}
        )
        general, _ = Team.objects.get_or_create(
            slug="general", defaults={"name": "General support"}
        )
        return {"refunds": refunds, "general": general}

    def _agents(self, teams: dict[str, Team], password: str) -> None:
        User = get_user_model()
        for username, name, supervisor, limit, team_slugs in DEMO_AGENTS:
            if User.objects.filter(username=username).exists():
                continue
            agent_create(
                username=username,
                password=password,
                display_name=name,
                email=f"{username}@supportdesk.example",
                is_supervisor=supervisor,
                approval_limit=limit,
                teams=[teams[slug] for slug in team_slugs],
            )

    def _macros(self) -> None:
        """Add two canned replies that agents can pick on the case page."""
        Macro.objects.get_or_create(
            name="Refund approved",
            defaults={
                "body": "Hello {customer_name|there},\n\nWe approved your refund of "
                "{refund_amount} for order {order_number}. It is on its way back "
                "to your original payment method.\n\n{agent_name}",
                "set_status": SupportCase.Status.SOLVED,
                "add_tags": "refund",
            },
        )
        Macro.objects.get_or_create(
            name="Ask for photos",
            defaults={
                "body": "Hello {customer_name|there},\n\nSorry about the damage. "
                "Could you reply with a photo of the item and its packaging? "
                "Then we can settle order {order_number} quickly.\n\n{agent_name}",
                "set_status": SupportCase.Status.PENDING,
                "add_tags": "damaged",
            },
        )

    def _policy(self) -> None:
        if RefundPolicy.objects.exists():
            return
        RefundPolicy.objects.create(
            name="Standard returns",
            is_active=True,
            return_window_days=30,
            currency="USD",
            shipping_refundable=True,
            auto_approve_limit=Decimal("25"),
            supervisor_threshold=Decimal("250"),
            non_refundable_skus="GIFT*",
        )

    def _sla_policies(self) -> None:
        """Give every priority first-response and resolution targets."""
        targets = {
            # priority: (first response, resolution), in business minutes
            SupportCase.Priority.LOW: (8 * 60, 5 * 8 * 60),
            SupportCase.Priority.NORMAL: (4 * 60, 3 * 8 * 60),
            SupportCase.Priority.HIGH: (60, 8 * 60),
            SupportCase.Priority.URGENT: (30, 4 * 60),
        }
        for priority, (first_response, resolution) in targets.items():
            SlaPolicy.objects.get_or_create(
                priority=priority,
                defaults={
                    "first_response_minutes": first_response,
                    "resolution_minutes": resolution,
                },
            )

    def _sample_cases(self, teams: dict[str, Team]) -> None:
        """File a few refund requests and questions, as customers would."""
        if SupportCase.objects.exists():
            return
        recent = (
            Order.objects.filter(financial_status="paid", cancelled_at__isnull=True)
            .exclude(email_key="")
            .order_by("-placed_at")
            .prefetch_related("lines")[:12]
        )
        reasons = list(RefundRequest.Reason.values)
        filed = 0
        # The newest order stays untouched for the printed refund form example.
        for index, order in enumerate(recent[1:]):
            if filed == 4:
                break
            line = order.lines.first()
            if line is None:
                continue  # an order without lines has nothing to refund
            try:
                refund_request_create(
                    order=order,
                    selection={line.pk: 1},
                    reason_code=reasons[index % len(reasons)],
                    reason_text="Demo request created by seed_demo.",
                    actor=Actor.customer(order.customer_name),
                    submission_key=f"seed-demo-{order.pk}",
                )
            except NotEligible:
                continue
            filed += 1
        customer_order = recent[len(recent) - 1] if recent else None
        case_create(
            actor=Actor.customer(
                customer_order.customer_name if customer_order else "Customer"
            ),
            subject="Where is my parcel?",
            channel=SupportCase.Channel.CONTACT_FORM,
            body="Hello, the tracking link has not changed for five days. "
            "Can you check?",
            customer=customer_order.customer if customer_order else None,
            order=customer_order,
            team=teams["general"],
        )

    def _print_credentials(self, password: str) -> None:
        self.stdout.write("")
        self.stdout.write("Demo agents (log in at /login/):")
        for username, name, supervisor, limit, _ in DEMO_AGENTS:
            role = "supervisor, admin site" if supervisor else "agent"
            self.stdout.write(
                f"  {username} / {password}  ({name}, {role}, "
                f"approves up to {limit} USD)"
            )
        order = (
            Order.objects.filter(financial_status="paid", cancelled_at__isnull=True)
            .exclude(email_key="")
            .order_by("-placed_at")
            .first()
        )
        if order is not None:
            self.stdout.write(
                f"Try the refund form at /refund/ with order {order.number} and "
                f"{order.email}."
            )
