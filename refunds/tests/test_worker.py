"""No approved refund is lost when the worker is killed and started again.

The test runs ``manage.py db_worker`` as a subprocess against the test
database, kills it with SIGKILL while the receiver keeps a webhook request
open, starts a new worker, and checks that the receiver got every approved
refund's event, by event id, with the killed attempt sent again.
"""

import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from cases.audit import Actor
from refunds.models import OutboxMessage, WebhookEndpoint
from refunds.services import refund_approve
from refunds.tests.factories import make_order, request_refund
from refunds.tests.receiver import Receiver

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

REFUNDS = 8
HELD_REQUEST = 4
# Upper bounds for the waits below; a healthy run takes a few seconds.
WAIT_SECONDS = 180


def database_url() -> str:
    """Return a DATABASE_URL that points a subprocess at the test database."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    host = db["HOST"] or "127.0.0.1"
    port = db["PORT"] or 5432
    return f"postgres://{quote(db['USER'])}{password}@{host}:{port}/{db['NAME']}"


def start_worker(log) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "supportdesk.settings_test",
        "DATABASE_URL": database_url(),
        "REFUNDS_OUTBOX_LEASE_SECONDS": "2",
        "REFUNDS_OUTBOX_SWEEP_SECONDS": "1",
        "REFUNDS_OUTBOX_BACKOFF_SECONDS": "1",
        "PYTHONUNBUFFERED": "1",
    }
    return subprocess.Popen(
        [
            sys.executable,
            str(Path(settings.BASE_DIR) / "manage.py"),
            "db_worker",
            "--interval",
            "0.1",
            "--no-startup-delay",
            "--no-reload",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"Timed out after {WAIT_SECONDS} s waiting for {what}."
            )
        time.sleep(0.2)


def undelivered_webhooks() -> int:
    return (
        OutboxMessage.objects.filter(channel=OutboxMessage.Channel.WEBHOOK)
        .exclude(status=OutboxMessage.Status.DELIVERED)
        .count()
    )


def test_killed_worker_loses_no_refund(policy, supervisor, settings):
    # The first sweep is scheduled by this process when the approvals commit.
    settings.REFUNDS_OUTBOX_SWEEP_SECONDS = 1
    receiver = Receiver(hold_request=HELD_REQUEST).start()
    endpoint = WebhookEndpoint.objects.create(name="Shop", url=receiver.url)
    receiver.secret = endpoint.secret
    refunds = [
        refund_approve(
            refund=request_refund(make_order(f"#60{number:02d}")),
            actor=Actor.for_agent(supervisor),
        )
        for number in range(REFUNDS)
    ]
    messages = OutboxMessage.objects.filter(channel=OutboxMessage.Channel.WEBHOOK)
    expected = {str(m.event_id): m.payload["data"]["refund"] for m in messages}
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 closed below
    first = start_worker(log)
    second = None
    try:
        assert receiver.held.wait(WAIT_SECONDS), "no webhook reached the receiver"
        first.kill()
        first.wait(timeout=60)
        held_event = receiver.deliveries[HELD_REQUEST - 1].event_id
        held = OutboxMessage.objects.get(event_id=held_event)
        receiver.release.set()

        second = start_worker(log)
        wait_until(lambda: undelivered_webhooks() == 0, "every webhook delivered")
    except BaseException:
        log.seek(0)
        print(log.read())
        raise
    finally:
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.kill()
                worker.wait(timeout=60)
        receiver.stop()
        log.close()

    received = Counter(receiver.event_ids())
    assert first.returncode == -9
    assert held.status == OutboxMessage.Status.PENDING
    assert held.locked_until is not None
    assert set(received) == set(expected)
    assert sorted(expected.values()) == sorted(r.reference for r in refunds)
    assert received[held_event] >= 2
    assert all(delivery.signature_valid for delivery in receiver.deliveries)
    assert len(set(receiver.event_ids())) == REFUNDS
