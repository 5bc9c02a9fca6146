"""``manage.py import_orders``: output, exit status and broken files."""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from cases.models import Customer, Order, OrderLine

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
EXPORTS = ROOT / "tests" / "data" / "real-shopify"
HEADER = (
    "Name,Email,Financial Status,Currency,Total,Created at,Id,Lineitem quantity,"
    "Lineitem name,Lineitem price\n"
)
GOOD = HEADER + (
    "#1,a.tester@example.com,paid,USD,15.00,2026-01-05 10:00:00 +0000,11,"
    "1,Mug,10.00\n"
    "#1,,,,,,,1,Cup,5.00\n"
    "#2,b.tester@example.com,paid,USD,4.00,2026-01-06 10:00:00 +0000,12,2,Pen,2.00\n"
)


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_orders", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(*args: str) -> tuple[CommandError, str]:
    err = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import_orders", *args, stdout=StringIO(), stderr=err)
    return caught.value, err.getvalue()


def write(path: Path, data: str | bytes) -> str:
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(path)


def test_summary_counts_created_then_unchanged(tmp_path):
    path = write(tmp_path / "orders.csv", GOOD)

    first, _ = run(path)
    second, _ = run(path)

    assert first.splitlines() == [
        "Imported 2 orders from 1 file(s): 2 created, 0 updated, 0 unchanged.",
        "Lines: 3 created, 0 updated, 0 removed. Customers: 2 created, 0 updated.",
    ]
    assert second.splitlines() == [
        "Imported 2 orders from 1 file(s): 0 created, 0 updated, 2 unchanged.",
        "Lines: 0 created, 0 updated, 0 removed. Customers: 0 created, 0 updated.",
    ]
    assert Order.objects.count() == 2


def test_summary_counts_updates(tmp_path):
    run(write(tmp_path / "orders.csv", GOOD))
    changed = GOOD.replace("a.tester@example.com,paid", "a.tester@example.com,refunded")

    out, _ = run(write(tmp_path / "changed.csv", changed))

    assert out.splitlines()[0] == (
        "Imported 2 orders from 1 file(s): 0 created, 1 updated, 1 unchanged."
    )


def test_real_export_imports(tmp_path):
    out, _ = run(str(EXPORTS / "za-baby-gear.csv"))

    assert out.splitlines() == [
        "Imported 50 orders from 1 file(s): 50 created, 0 updated, 0 unchanged.",
        "Lines: 101 created, 0 updated, 0 removed. Customers: 48 created, 0 updated.",
    ]


def test_order_in_several_files_is_reported(tmp_path):
    first = write(tmp_path / "a.csv", GOOD)
    second = write(tmp_path / "b.csv", GOOD)

    out, _ = run(first, second)

    assert out.splitlines()[0] == (
        "Imported 2 orders from 2 file(s): 2 created, 0 updated, 0 unchanged."
    )
    assert out.splitlines()[2] == (
        "2 order(s) were in more than one file; each was imported from the last "
        "file that has it."
    )


BROKEN = {
    "bad amount": (
        GOOD.replace("1,Mug,10.00", "1,Mug,10.0O"),
        "record 1 (line 2), column 'Lineitem price': '10.0O' is not an amount. "
        "Expected digits with a dot as the decimal separator, such as 12.50.",
    ),
    "bad date": (
        GOOD.replace("2026-01-06 10:00:00 +0000", "06.01.2026"),
        "record 3 (line 4), column 'Created at': '06.01.2026' is not a date and "
        "time. Expected the form 2026-03-05 15:40:14 +0000.",
    ),
    "unknown currency": (
        GOOD.replace("paid,USD,4.00", "paid,US$,4.00"),
        "record 3 (line 4), column 'Currency': 'US$' is not an ISO 4217 currency code.",
    ),
    "negative quantity": (
        GOOD.replace("1,Cup,5.00", "-1,Cup,5.00"),
        "record 2 (line 3), column 'Lineitem quantity': The quantity must be at "
        "least 1, not -1.",
    ),
    "missing column": (
        GOOD.replace("Lineitem quantity,", "Quantity,"),
        "line 1, column 'Lineitem quantity': Required column is missing. Export the "
        "file with the shop's 'Orders' export, which includes it.",
    ),
    "invalid utf-8": (
        GOOD.encode().replace(b"Pen", b"P\xe9n"),
        "record 3 (line 4), column 'Lineitem name': The value has the byte 0xe9, "
        "which is not UTF-8. Export the file again from the shop, or save it as "
        "'CSV UTF-8'.",
    ),
    "empty file": (
        "",
        "line 1: The file is empty. Export the orders again from the shop.",
    ),
    "order twice": (
        GOOD + "#1,a.tester@example.com,paid,USD,1.00,,,1,Mug,1.00\n",
        "record 4 (line 5), column 'Name': Order #1 is in the file twice: it also "
        "starts at record 1. Remove one of them.",
    ),
    "total does not add up": (
        GOOD.replace("USD,4.00", "USD,40.00"),
        "record 3 (line 4), column 'Total': Order #2: the Total 40.00 does not add "
        "up. The items (4.00) less the discount (0.00) plus shipping (0.00), "
        "duties (0.00) and taxes (0.00) come to 4.00. Check this order's amounts "
        "in the shop and export it again.",
    ),
}


@pytest.mark.parametrize(("data", "error"), BROKEN.values(), ids=BROKEN.keys())
def test_broken_file_imports_nothing(tmp_path, data, error):
    path = write(tmp_path / "broken.csv", data)

    exc, err = run_failing(path)

    assert exc.returncode == 1
    assert str(exc) == "Nothing was imported. Fix the errors above and run again."
    assert err.splitlines() == [f"{path}: 1 error(s):", f"  {error}"]
    assert Order.objects.count() == 0
    assert OrderLine.objects.count() == 0
    assert Customer.objects.count() == 0


def test_one_broken_file_of_two_imports_nothing(tmp_path):
    good = write(tmp_path / "good.csv", GOOD)
    broken = write(tmp_path / "broken.csv", GOOD.replace("2,Pen", "x,Pen"))

    exc, err = run_failing(good, broken)

    assert exc.returncode == 1
    assert err.splitlines()[0] == f"{broken}: 1 error(s):"
    assert Order.objects.count() == 0


def test_another_shops_export_imports_nothing(tmp_path):
    run(write(tmp_path / "ours.csv", GOOD))
    theirs = write(tmp_path / "theirs.csv", GOOD.replace(",11,", ",99,"))

    exc, err = run_failing(theirs)

    assert exc.returncode == 1
    assert str(exc) == (
        "Nothing was imported: 1 order(s) conflict with the stored orders."
    )
    assert err.splitlines() == [
        f"  {theirs}, record 1 (line 2), column 'Id': Order #1 is stored with shop "
        "id 11 but the file has 99. Is this another shop's export?"
    ]
    assert Order.objects.get(number="#1").shop_order_id == "11"


def test_real_exports_of_two_shops_in_one_run(tmp_path):
    tees = str(EXPORTS / "us-tees-2020.csv")
    dresses = str(EXPORTS / "uk-tiktok-dresses.csv")

    _, err = run_failing(tees, dresses)

    assert err.splitlines()[0] == f"{dresses}: 3 error(s):"
    assert "Order #1003 is also in" in err.splitlines()[1]
    assert Order.objects.count() == 0


def test_many_errors_are_cut_after_fifty(tmp_path):
    rows = "".join(f"#{n},,paid,USD,,,,x,Mug,1.00\n" for n in range(1, 61))
    path = write(tmp_path / "many.csv", HEADER + rows)

    _, err = run_failing(path)

    lines = err.splitlines()
    assert lines[0] == f"{path}: 60 error(s):"
    assert len(lines) == 1 + 50 + 1
    assert lines[-1] == "  … and 10 more."


def test_missing_file(tmp_path):
    exc, _ = run_failing(str(tmp_path / "nope.csv"))

    assert (
        str(exc)
        == f"{tmp_path / 'nope.csv'}: no such file. Give the path of a CSV export."
    )


def test_unknown_currency_option(tmp_path):
    exc, _ = run_failing(write(tmp_path / "a.csv", GOOD), "--currency", "XXY")

    assert str(exc) == (
        "--currency: Unknown currency code 'XXY'. Use an ISO 4217 code such as EUR."
    )


def test_unknown_time_zone_option(tmp_path):
    exc, _ = run_failing(write(tmp_path / "a.csv", GOOD), "--time-zone", "Paris")

    assert str(exc) == (
        "--time-zone: 'Paris' is not an IANA time zone such as Europe/Paris."
    )


def test_currency_option_fills_missing_column(tmp_path):
    text = (
        "Name,Financial Status,Lineitem quantity,Lineitem name,Lineitem price\n"
        "#1,paid,1,Teapot,1200\n"
    )

    run(write(tmp_path / "jpy.csv", text), "--currency", "jpy")

    order = Order.objects.get()
    assert (order.currency, order.total_minor) == ("JPY", 1200)


def test_progress_bars_on_stderr(tmp_path):
    path = write(tmp_path / "orders.csv", GOOD)

    _, err = run(path, "--progress")

    assert "Checking orders.csv: 100%" in err
    assert "Importing orders.csv: 100%" in err
    assert f"{len(GOOD)}/{len(GOOD)}" in err


def test_no_progress_writes_nothing_to_stderr(tmp_path):
    path = write(tmp_path / "orders.csv", GOOD)

    _, err = run(path, "--no-progress")

    assert err == ""


def test_exit_status_of_process(tmp_path):
    path = write(tmp_path / "broken.csv", GOOD.replace("1,Cup", "one,Cup"))
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)

    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "import_orders", path],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )

    assert result.returncode == 1
    assert (
        "record 2 (line 3), column 'Lineitem quantity': 'one' is not a whole "
        "number of units." in result.stderr
    )
    assert "CommandError: Nothing was imported." in result.stderr
    assert result.stdout == ""
