"""``manage.py import_product_types FILE``: product types by SKU for the policy."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from refunds.services.catalog import product_types_import
from supportdesk.errors import DomainError


class Command(BaseCommand):
    help = (
        "Read the shop's products export (CSV with Handle, Type and Variant SKU "
        "columns) and store each SKU's product type, which the refund policy's "
        "non-refundable product types are matched against."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="The products export, as CSV.")

    def handle(self, *args, path: Path, **options):
        try:
            with path.open("rb") as stream:
                summary = product_types_import(stream)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"{summary.created} SKU(s) added, {summary.updated} updated, "
            f"{summary.unchanged} unchanged; {summary.without_sku} row(s) without "
            "a SKU skipped."
        )
