"""``manage.py purge_idempotency_keys``: delete old stored responses."""

from django.core.management.base import BaseCommand

from refunds.services.idempotency import RETENTION, idempotency_purge


class Command(BaseCommand):
    help = (
        f"Delete the stored responses of idempotency keys older than {RETENTION}. "
        "Run it daily; a key reused after that performs its write again."
    )

    def handle(self, *args, **options):
        deleted = idempotency_purge()
        self.stdout.write(f"Deleted {deleted} stored response(s).")
