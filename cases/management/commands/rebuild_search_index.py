"""``manage.py rebuild_search_index``: rebuild every case's search document."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from cases.search import reindex_all


class Command(BaseCommand):
    help = (
        "Rebuild the full-text search document of every case. Run it after "
        "loading cases without the services, such as from a database dump."
    )

    def handle(self, *args, **options):
        count = reindex_all()
        self.stdout.write(f"Indexed {count} cases.")
