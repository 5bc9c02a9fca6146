"""``manage.py import_orders FILE...``: import Shopify orders exports."""

from __future__ import annotations

import zoneinfo
from argparse import BooleanOptionalAction
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, OutputWrapper
from tqdm import tqdm

from cases.order_import import ExportsInvalid, ImportConflict, exports_import
from cases.shopify_export import Progress
from supportdesk.money import UnknownCurrency, currency_exponent

# Without --progress or --no-progress, files larger than this show progress
# bars when stderr is a terminal.
PROGRESS_MIN_BYTES = 1_000_000


class _BarOutput:
    """A file for tqdm that writes to a command's stderr without adding line ends.

    OutputWrapper.write ends every call with a newline, which would break the
    carriage returns that redraw a progress bar.
    """

    def __init__(self, output: OutputWrapper):
        self._output = output

    def write(self, text: str) -> None:
        self._output.write(text, ending="")

    def flush(self) -> None:
        self._output.flush()


class Command(BaseCommand):
    help = (
        "Import one or more Shopify orders exports (CSV, one row per line item). "
        "Importing a file again updates its orders; an order in several files is "
        "taken from the last of them. If any file has an error, nothing is "
        "imported and the command exits with status 1."
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
            help="Show progress bars on stderr, or never with --no-progress (default: "
            f"on a terminal, for files over {PROGRESS_MIN_BYTES:,} bytes).",
        )

    def handle(self, *args, **options):
        paths = [Path(name) for name in options["files"]]
        for path in paths:
            if not path.is_file():
                raise CommandError(
                    f"{path}: no such file. Give the path of a CSV export."
                )
        currency = options["currency"].upper()
        try:
            currency_exponent(currency)
        except UnknownCurrency as exc:
            raise CommandError(f"--currency: {exc.message}") from None
        if options["time_zone"] not in zoneinfo.available_timezones():
            raise CommandError(
                f"--time-zone: {options['time_zone']!r} is not an IANA time zone "
                "such as Europe/Paris."
            )

        try:
            summary = exports_import(
                paths,
                default_currency=currency,
                time_zone=options["time_zone"],
                progress=self._progress_bars(options["progress"], paths),
            )
        except ExportsInvalid as exc:
            for failure in exc.failures:
                self.stderr.write(f"{failure.source}: {failure.total} error(s):")
                for error in failure.errors:
                    self.stderr.write(f"  {error}")
                if failure.total > len(failure.errors):
                    self.stderr.write(
                        f"  … and {failure.total - len(failure.errors)} more."
                    )
            raise CommandError(
                "Nothing was imported. Fix the errors above and run again."
            ) from None
        except ImportConflict as exc:
            for error in exc.errors:
                self.stderr.write(f"  {error}")
            raise CommandError(f"Nothing was imported: {exc.message}") from None

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
        if summary.orders_in_several_files:
            self.stdout.write(
                f"{summary.orders_in_several_files} order(s) were in more than one "
                "file; each was imported from the last file that has it."
            )
        for warning in summary.reconciliation_warnings:
            self.stdout.write(self.style.WARNING(f"Check refunds of {warning}"))

    def _progress_bars(self, option: bool | None, paths: list[Path]):
        if option is None:
            largest = max(path.stat().st_size for path in paths)
            option = self.stderr.isatty() and largest > PROGRESS_MIN_BYTES
        if not option:
            return None
        output = _BarOutput(self.stderr)

        @contextmanager
        def bar(step: str, path: Path) -> Iterator[Progress]:
            with tqdm(
                total=path.stat().st_size,
                desc=f"{step} {path.name}",
                unit="B",
                unit_scale=True,
                file=output,
            ) as progress_bar:
                yield progress_bar.update

        return bar
