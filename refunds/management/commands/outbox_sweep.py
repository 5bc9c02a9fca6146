"""``manage.py outbox_sweep``: deliver due outbox messages now."""

from django.core.management.base import BaseCommand

from refunds.services.outbox import outbox_sweep
from refunds.tasks import sweep_schedule


class Command(BaseCommand):
    help = (
        "Attempt every due webhook and email of the refunds outbox in this "
        "process, and make sure the worker's periodic sweep is scheduled. Safe "
        "to run at any time, for example after a deploy."
    )

    def handle(self, *args, **options):
        attempted = outbox_sweep()
        scheduled = sweep_schedule()
        self.stdout.write(
            f"Attempted {attempted} message(s). "
            + (
                "Scheduled the periodic sweep."
                if scheduled
                else "The periodic sweep was already scheduled."
            )
        )
