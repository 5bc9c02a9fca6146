"""``manage.py escalate_sla``: escalate the cases whose SLA target passed."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from cases.escalation import sla_escalate


class Command(BaseCommand):
    help = (
        "Raise the priority of cases that missed their first-response or "
        "resolution target and email the supervisors. Run it once a minute "
        "from cron, or keep it running with --every."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--every",
            type=int,
            default=0,
            metavar="SECONDS",
            help="Repeat every SECONDS seconds until stopped (default: run once).",
        )

    def handle(self, *args, **options):
        while True:
            breaches = sla_escalate()
            self.stdout.write(f"Escalated {len(breaches)} SLA breaches.")
            if not options["every"]:
                return
            time.sleep(options["every"])
