"""``manage.py import_orders FILE...``: import Shopify orders exports."""

from __future__ import annotations

import sys
from argparse import BooleanOptionalAction
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from cases.order_import import ImportConflict, orders_import
from cases.shopify_export import ExportInvalid, ParsedOrder, parse_export

# Larger files show progress bars when stderr is a terminal.
PROGRESS_MIN_BYTES = 1_000_000


def _show_progress(option: bool | None, size: int) -> bool:
    if option is not None:
        return option
    return sys.stderr.isatty() and size > PROGRESS_MIN_BYTES


class Command(BaseCommand):
    help = (
        "Import one or more Shopify orders exports (CSV, one row per line item). "
        "Importing a file again updates its orders. If any file has an error, "
        "nothing is imported and the command exits with status 1."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "files", nargs="+", metavar="FILE", help="Path of a CSV export."
        )
        parser.add_argument(
            "--currency",
            default=settings.SHOP_CURRENCY,
            help="ISO 4217 code for files without a Currency column (default: "
            "%(default)s, from SHOP_CURRENCY).",
        )
        parser.add_argument(
            "--time-zone",
            default=settings.TIME_ZONE,
            help="IANA time zone of time stamps without a UTC offset (default: "
            "%(default)s, from TIME_ZONE).",
        )
        parser.add_argument(
            "--progress",
            action=BooleanOptionalAction,
            default=None,
            help="Show a progress bar (default: on a terminal, for files over 1 MB).",
        )

    def handle(self, *args, **options):
        paths = [Path(name) for name in options["files"]]
        for path in paths:
            if not path.is_file():
                raise CommandError(
                    f"{path}: no such file. Give the path of a CSV export."
                )

        parsed: dict[str, ParsedOrder] = {}
        failures: list[ExportInvalid] = []
        total_bytes = 0
        for path in paths:
            show = _show_progress(options["progress"], path.stat().st_size)
            total_bytes += path.stat().st_size
            with (
                path.open("rb") as stream,
                tqdm(
                    desc=f"Reading {path.name}",
                    unit=" rows",
                    disable=not show,
                    file=sys.stderr,
                ) as bar,
            ):
                try:
                    orders = parse_export(
                        stream,
                        source=str(path),
                        default_currency=options["currency"].upper(),
                        time_zone=options["time_zone"],
                        progress=bar.update,
                    )
                except ExportInvalid as exc:
                    failures.append(exc)
                    continue
            for order in orders:
                parsed[order.number_key] = order  # a later file updates an earlier one

        if failures:
            for failure in failures:
                self.stderr.write(f"{failure.source}: {failure.total} error(s):")
                for error in failure.errors:
                    self.stderr.write(f"  {error}")
                if failure.total > len(failure.errors):
                    self.stderr.write(
                        f"  … and {failure.total - len(failure.errors)} more."
                    )
            raise CommandError(
                "Nothing was imported. Fix the errors above and run again."
            )

        orders = list(parsed.values())
        with tqdm(
            total=len(orders),
            desc="Saving orders",
            unit=" orders",
            disable=not _show_progress(options["progress"], total_bytes),
            file=sys.stderr,
        ) as bar:
            try:
                summary = orders_import(orders, progress=bar.update)
            except ImportConflict as exc:
                for error in exc.errors:
                    self.stderr.write(f"  {error}")
                raise CommandError("Nothing was imported: " + exc.message) from None

        self.stdout.write(
            f"Imported {summary.orders} orders from {len(paths)} file(s): "
            f"{summary.orders_created} created, {summary.orders_updated} updated, "
            f"{summary.orders_unchanged} unchanged."
        )
        self.stdout.write(
            f"Lines: {summary.lines_created} created, {summary.lines_updated} updated, "
            f"{summary.lines_removed} removed. Customers: {summary.customers_created} "
            f"created, {summary.customers_updated} updated."
        )
        for warning in summary.reconciliation_warnings:
            self.stdout.write(self.style.WARNING(f"Check refunds of {warning}"))
