"""The transactional outbox: write messages with a change, deliver them later.

Services write webhooks and emails as OutboxMessage rows inside the
transaction of the change they report, so a committed approval always has
its webhook and a rolled-back one never does. After the commit, a task per
message is enqueued on ``django.tasks``. The periodic sweep delivers any
message whose task was lost, or whose worker died during an attempt, once
its lease has expired.

Delivery is at least once: a worker killed after the receiver got a webhook
but before the success was saved sends it again. Receivers de-duplicate on
the event id.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.handler import DEFAULT_MAILER_ALIAS
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from cases.audit import Actor, record_event
from refunds import webhooks
from refunds.models import OutboxMessage, RefundRequest, WebhookEndpoint
from supportdesk.errors import PermissionDenied, StateConflict

logger = logging.getLogger(__name__)

Status = OutboxMessage.Status
# Bytes of a failed response body kept in last_error, for the dead-letter list.
ERROR_BODY_LIMIT = 500


class DeliveryFailed(Exception):
    """One delivery attempt failed; the message will be retried."""

    def __init__(self, message: str, status_code: int | None = None):
        super().__init__(message)
        self.status_code = status_code


def outbox_write_webhooks(
    *, refund: RefundRequest | None, event_type: str, data: dict
) -> list[OutboxMessage]:
    """Queue one event for every active webhook endpoint, with one event id.

    Each copy carries the URL at which that endpoint confirms the refund.
    """
    event_id = uuid.uuid4()
    now = timezone.now()
    messages = []
    for endpoint in WebhookEndpoint.objects.filter(is_active=True):
        confirm_path = reverse(
            "refunds:hook-confirm", kwargs={"endpoint_id": endpoint.pk}
        )
        payload = {
            "id": str(event_id),
            "type": event_type,
            "created_at": now.isoformat(),
            "data": {**data, "confirm_url": f"{settings.SITE_URL}{confirm_path}"},
        }
        messages.append(
            OutboxMessage(
                event_id=event_id,
                event_type=event_type,
                channel=OutboxMessage.Channel.WEBHOOK,
                endpoint=endpoint,
                refund=refund,
                payload=payload,
                created_at=now,
                next_attempt_at=now,
            )
        )
    OutboxMessage.objects.bulk_create(messages)
    _enqueue_after_commit(messages)
    return messages


def outbox_write_email(
    *,
    refund: RefundRequest | None,
    event_type: str,
    recipient: str,
    subject: str,
    body_text: str,
    body_html: str,
) -> OutboxMessage:
    """Queue one email. Line breaks in the subject become spaces."""
    message = OutboxMessage.objects.create(
        event_type=event_type,
        channel=OutboxMessage.Channel.EMAIL,
        refund=refund,
        recipient=recipient,
        subject=" ".join(subject.split())[:255],
        body_text=body_text,
        body_html=body_html,
    )
    _enqueue_after_commit([message])
    return message


def _enqueue_after_commit(messages: Iterable[OutboxMessage]) -> None:
    ids = [str(message.pk) for message in messages]
    if ids:
        # robust: a failed enqueue is logged and left to the sweep, instead of
        # raising after the change has already committed.
        transaction.on_commit(lambda: _enqueue(ids), robust=True)


def _enqueue(ids: list[str]) -> None:
    from refunds.tasks import deliver_outbox_message, sweep_schedule

    for message_id in ids:
        deliver_outbox_message.enqueue(message_id)
    sweep_schedule()


def outbox_deliver(*, message_id: str) -> str:
    """Make one delivery attempt of a due message; return its status after it.

    A message is due when it is pending, its next attempt time has come and
    no other worker has leased it. The attempt takes the lease first, so two
    workers never send it at the same time. A worker that dies leaves it due
    again when the lease expires. A failure schedules a retry with
    exponential backoff, and the last allowed failure makes it a dead letter.
    """
    lease = timedelta(seconds=settings.REFUNDS_OUTBOX_LEASE_SECONDS)
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(of=("self",))
            .select_related("endpoint")
            .filter(pk=message_id)
            .first()
        )
        if message is None:
            return "missing"
        now = timezone.now()
        if not _is_due(message, now):
            return message.status
        message.attempts += 1
        message.locked_until = now + lease
        message.save(update_fields=["attempts", "locked_until"])

    try:
        status_code = _send(message)
    except DeliveryFailed as exc:
        return _record_failure(message, str(exc), exc.status_code)
    return _record_success(message, status_code)


def _is_due(message: OutboxMessage, now) -> bool:
    return (
        message.status == Status.PENDING
        and message.next_attempt_at <= now
        and (message.locked_until is None or message.locked_until <= now)
    )


def _record_success(message: OutboxMessage, status_code: int | None) -> str:
    with transaction.atomic():
        current = OutboxMessage.objects.select_for_update().get(pk=message.pk)
        current.status = Status.DELIVERED
        current.delivered_at = timezone.now()
        current.locked_until = None
        current.last_status_code = status_code
        current.save(
            update_fields=["status", "delivered_at", "locked_until", "last_status_code"]
        )
    logger.info(
        "Delivered %s %s",
        message.channel,
        message.event_type,
        extra={
            "outbox_message": str(message.pk),
            "event_id": str(message.event_id),
            "attempt": message.attempts,
        },
    )
    return Status.DELIVERED


def _record_failure(message: OutboxMessage, error: str, status_code) -> str:
    with transaction.atomic():
        current = OutboxMessage.objects.select_for_update().get(pk=message.pk)
        if current.status != Status.PENDING:
            return current.status  # delivered by another worker meanwhile
        current.last_error = error[:2000]
        current.last_status_code = status_code
        current.locked_until = None
        if current.attempts >= settings.REFUNDS_OUTBOX_MAX_ATTEMPTS:
            current.status = Status.DEAD
        else:
            current.next_attempt_at = timezone.now() + backoff(current.attempts)
        current.save(
            update_fields=[
                "last_error",
                "last_status_code",
                "locked_until",
                "status",
                "next_attempt_at",
            ]
        )
        if current.status == Status.PENDING:
            _enqueue_retry_after_commit(current)
    log = logger.error if current.status == Status.DEAD else logger.warning
    log(
        "Delivery of %s %s failed (attempt %s): %s",
        message.channel,
        message.event_type,
        current.attempts,
        error,
        extra={
            "outbox_message": str(message.pk),
            "event_id": str(message.event_id),
            "status_code": status_code,
            "dead": current.status == Status.DEAD,
        },
    )
    return current.status


def backoff(attempts: int) -> timedelta:
    """Return the wait after the ``attempts``-th failure: base × 2^(attempts − 1).

    With the defaults (30 s base, 6 h cap), the waits are 30 s, 1 min, 2 min,
    4 min and so on, about 4 h 16 min in total before the tenth attempt.
    """
    base = settings.REFUNDS_OUTBOX_BACKOFF_SECONDS
    seconds = min(
        base * 2 ** max(0, attempts - 1), settings.REFUNDS_OUTBOX_MAX_BACKOFF_SECONDS
    )
    return timedelta(seconds=seconds)


def _enqueue_retry_after_commit(message: OutboxMessage) -> None:
    message_id, run_after = str(message.pk), message.next_attempt_at

    def enqueue() -> None:
        from refunds.tasks import deliver_outbox_message

        deliver_outbox_message.using(run_after=run_after).enqueue(message_id)

    transaction.on_commit(enqueue, robust=True)


def _send(message: OutboxMessage) -> int | None:
    if message.channel == OutboxMessage.Channel.WEBHOOK:
        return _post_webhook(message)
    _send_email(message)
    return None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Treat a redirect as a failed delivery, since urllib would resend as GET."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post_webhook(message: OutboxMessage) -> int:
    endpoint = message.endpoint
    if endpoint is None or not endpoint.is_active:
        raise DeliveryFailed("The webhook endpoint was removed or deactivated.")
    body = webhooks.serialize(message.payload)
    headers = webhooks.signed_headers(
        secret=endpoint.secret,
        body=body,
        timestamp=int(timezone.now().timestamp()),
        event_id=str(message.event_id),
        event_type=message.event_type,
    )
    request = urllib.request.Request(
        endpoint.url, data=body, headers=headers, method="POST"
    )
    try:
        with _opener.open(
            request, timeout=settings.REFUNDS_WEBHOOK_TIMEOUT_SECONDS
        ) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        detail = exc.read(ERROR_BODY_LIMIT).decode("utf-8", "replace")
        raise DeliveryFailed(
            f"{endpoint.url} responded with HTTP {exc.code}: {detail}", exc.code
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryFailed(f"Could not reach {endpoint.url}: {reason}") from None
    if not 200 <= status < 300:
        raise DeliveryFailed(f"{endpoint.url} responded with HTTP {status}.", status)
    return status


def _send_email(message: OutboxMessage) -> None:
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient],
        headers={"X-Supportdesk-Event-Id": str(message.event_id)},
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    try:
        email.send(using=DEFAULT_MAILER_ALIAS)
    except OSError as exc:  # smtplib.SMTPException is an OSError
        raise DeliveryFailed(
            f"The mail server did not accept the email: {exc}"
        ) from None


def outbox_sweep(*, limit: int = 200) -> int:
    """Attempt every due message, oldest first; return how many were attempted.

    Catches the messages whose task was never enqueued or whose worker died,
    so no committed change loses its webhook or email.
    """
    now = timezone.now()
    due = list(
        OutboxMessage.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for message_id in due:
        outbox_deliver(message_id=str(message_id))
    return len(due)


def outbox_retry(*, message: OutboxMessage, actor: Actor) -> OutboxMessage:
    """Send a dead letter again, with a fresh set of attempts.

    The webhook keeps its event id, so a receiver that did get an earlier
    attempt can still drop the copy.
    """
    agent = actor.agent
    if agent is None or not agent.is_supervisor:
        raise PermissionDenied("Only a supervisor can retry a failed delivery.")
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().get(pk=message.pk)
        if message.status != Status.DEAD:
            raise StateConflict(
                f"Only failed deliveries can be retried; this one is "
                f"{message.get_status_display().lower()}."
            )
        message.status = Status.PENDING
        message.attempts = 0
        message.next_attempt_at = timezone.now()
        message.locked_until = None
        message.save(
            update_fields=["status", "attempts", "next_attempt_at", "locked_until"]
        )
        record_event(
            action="refunds.outbox.retried",
            actor=actor,
            target=message,
            changes={"event_type": message.event_type, "channel": message.channel},
        )
        _enqueue_after_commit([message])
    return message
