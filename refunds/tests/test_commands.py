"""Management commands and tasks of the refunds app."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from refunds.models import CatalogVariant, IdempotencyRecord, OutboxMessage
from refunds.tasks import sweep_outbox, sweep_schedule

pytestmark = pytest.mark.django_db

PRODUCTS = (
    "Handle,Title,Body (HTML),Vendor,Type,Tags,Option1 Name,Option1 Value,"
    "Variant SKU,Variant Price\n"
    "briefs,Cotton Briefs,<p>Soft</p>,Acme,Underwear,,Size,S,BRIEF-S,9.00\n"
    "briefs,,,,,,,M,BRIEF-M,9.00\n"
    "briefs,,,,,,,L,,9.00\n"
    'mug,"Mug, blue",,Acme,Kitchen,,Title,Default,\'MUG-B,12.00\n'
)


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_product_types_import_reads_variants(tmp_path):
    path = tmp_path / "products.csv"
    path.write_text(PRODUCTS, encoding="utf-8-sig")

    output = run("import_product_types", str(path))
    again = run("import_product_types", str(path))

    assert "3 SKU(s) added, 0 updated, 0 unchanged; 1 row(s) without a SKU" in output
    assert "0 SKU(s) added, 0 updated, 3 unchanged" in again
    types = dict(CatalogVariant.objects.values_list("sku", "product_type"))
    assert types == {"BRIEF-S": "Underwear", "BRIEF-M": "Underwear", "MUG-B": "Kitchen"}
    assert CatalogVariant.objects.get(sku="MUG-B").product_title == "Mug, blue"


def test_product_types_import_updates_changed_type(tmp_path):
    path = tmp_path / "products.csv"
    path.write_text(PRODUCTS, encoding="utf-8")
    run("import_product_types", str(path))
    path.write_text(PRODUCTS.replace("Kitchen", "Final sale"), encoding="utf-8")

    output = run("import_product_types", str(path))

    assert "0 SKU(s) added, 1 updated, 2 unchanged" in output
    assert CatalogVariant.objects.get(sku="MUG-B").product_type == "Final sale"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"Handle,Title\nmug,Mug\n", "lacks the column(s) Type, Variant SKU"),
        (b"Handle,Type,Variant SKU\nmug,\xff,M\n", "is not UTF-8"),
    ],
)
def test_product_types_import_rejects_bad_file(tmp_path, content, message):
    path = tmp_path / "products.csv"
    path.write_bytes(content)

    with pytest.raises(CommandError, match=re.escape(message)):
        run("import_product_types", str(path))

    assert not CatalogVariant.objects.exists()


def test_product_types_import_reports_missing_file(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        run("import_product_types", str(tmp_path / "missing.csv"))


def test_outbox_sweep_command_schedules_the_chain():
    OutboxMessage.objects.create(
        event_type="refund.received",
        channel=OutboxMessage.Channel.EMAIL,
        recipient="ana.tester@example.com",
        subject="Hello",
        body_text="Hello",
    )

    first = run("outbox_sweep")
    second = run("outbox_sweep")

    assert "Attempted 1 message(s). Scheduled the periodic sweep." in first
    assert "Attempted 0 message(s). The periodic sweep was already scheduled." in (
        second
    )
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.DELIVERED


def test_sweep_task_schedules_its_successor_first():
    result = sweep_outbox.call()

    waiting = DBTaskResult.objects.filter(
        task_path=sweep_outbox.module_path, status="READY"
    )
    assert result == 0
    assert waiting.count() == 1
    assert sweep_schedule() is False


def test_purge_idempotency_keys_command():
    IdempotencyRecord.objects.create(
        scope="s",
        key="old",
        fingerprint="f",
        response_status=201,
        created_at=timezone.now() - timedelta(days=3),
    )

    assert "Deleted 1 stored response(s)." in run("purge_idempotency_keys")
