"""Background tasks of the refunds outbox, run by ``manage.py db_worker``.

``deliver_outbox_message`` makes one attempt at one message. ``sweep_outbox``
runs every REFUNDS_OUTBOX_SWEEP_SECONDS: it schedules its own next run before
doing anything else, then attempts every due message. The chain starts with
the first message written, and ``manage.py outbox_sweep`` starts it by hand.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.tasks import TaskResultStatus, task
from django.utils import timezone
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from refunds.services.outbox import outbox_deliver, outbox_sweep

logger = logging.getLogger(__name__)


@task()
def deliver_outbox_message(message_id: str) -> str:
    return outbox_deliver(message_id=message_id)


@task()
def sweep_outbox() -> int:
    sweep_schedule()
    attempted = outbox_sweep()
    if attempted:
        logger.info("Outbox sweep attempted %s message(s)", attempted)
    return attempted


def sweep_schedule() -> bool:
    """Enqueue the next sweep unless one is waiting; return True if enqueued.

    A running sweep is not waiting, so the sweep calls this first to keep the
    chain going. Two chains started at once merge, as the first to run sees
    the other waiting. Works only with the database backend, whose queue can
    be read; other backends get no periodic sweep.
    """
    if not isinstance(sweep_outbox.get_backend(), DatabaseBackend):
        return False
    waiting = DBTaskResult.objects.filter(
        task_path=sweep_outbox.module_path, status=TaskResultStatus.READY
    )
    if waiting.exists():
        return False
    run_after = timezone.now() + timedelta(
        seconds=settings.REFUNDS_OUTBOX_SWEEP_SECONDS
    )
    sweep_outbox.using(run_after=run_after).enqueue()
    return True
