"""The outbox: written with the approval, delivered signed, retried, dead-lettered."""

import json
from datetime import timedelta
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
import time_machine
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from cases.audit import Actor
from refunds import webhooks
from refunds.models import OutboxMessage, RefundRequest, WebhookEndpoint
from refunds.services import refund_approve, refund_mark_refunded, refund_reject
from refunds.services.outbox import backoff, outbox_deliver, outbox_sweep
from refunds.tasks import deliver_outbox_message, sweep_outbox, sweep_schedule
from refunds.tests.factories import make_order, request_refund
from refunds.tests.receiver import Receiver
from refunds.timeline import public_timeline

pytestmark = pytest.mark.django_db

Status = OutboxMessage.Status


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def endpoint(receiver):
    endpoint = WebhookEndpoint.objects.create(name="Shop", url=receiver.url)
    receiver.secret = endpoint.secret
    return endpoint


def approved_refund(agent, **order_kwargs):
    order = make_order(**order_kwargs)
    return refund_approve(refund=request_refund(order), actor=Actor.for_agent(agent))


def webhook_messages():
    return OutboxMessage.objects.filter(channel=OutboxMessage.Channel.WEBHOOK)


def test_approval_writes_one_webhook_per_active_endpoint(policy, agent, endpoint):
    WebhookEndpoint.objects.create(
        name="Old", url="http://127.0.0.1:8399/", is_active=False
    )
    WebhookEndpoint.objects.create(name="Backup", url="http://127.0.0.1:8398/")

    refund = approved_refund(agent)

    messages = list(webhook_messages())
    assert len(messages) == 2
    assert {m.endpoint.name for m in messages} == {"Shop", "Backup"}
    assert len({m.event_id for m in messages}) == 1
    payload = messages[0].payload
    assert payload["type"] == "refund.approved"
    assert payload["data"]["refund"] == refund.reference
    assert payload["data"]["amount_minor"] == 1000
    assert payload["data"]["amount"] == "10.00"
    assert payload["data"]["lines"][0]["sku"] == "STK-1"
    assert payload["data"]["confirm_url"].endswith(
        reverse("refunds:hook-confirm", args=[messages[0].endpoint_id])
    )


def test_rolled_back_approval_leaves_no_message(policy, agent, endpoint):
    refund = request_refund(make_order())

    with pytest.raises(RuntimeError), transaction.atomic():
        refund_approve(refund=refund, actor=Actor.for_agent(agent))
        raise RuntimeError("the transaction fails after the approval")

    assert not webhook_messages().exists()
    refund.refresh_from_db()
    assert refund.status == RefundRequest.Status.REQUESTED


def test_delivery_is_signed_and_verifiable(policy, agent, endpoint, receiver):
    approved_refund(agent)
    message = webhook_messages().get()

    status = outbox_deliver(message_id=str(message.pk))

    assert status == Status.DELIVERED
    (delivery,) = receiver.deliveries
    assert delivery.signature_valid
    assert delivery.event_id == str(message.event_id)
    assert delivery.headers[webhooks.EVENT_TYPE_HEADER] == "refund.approved"
    assert delivery.body == webhooks.serialize(message.payload)
    assert delivery.payload["id"] == str(message.event_id)
    message.refresh_from_db()
    assert message.delivered_at is not None
    assert message.attempts == 1
    assert message.last_status_code == 200


def test_signature_with_other_secret_does_not_verify():
    body = b'{"id":"1"}'
    signature = webhooks.sign("right-secret", 1767225600, body)

    with pytest.raises(webhooks.InvalidSignature, match="does not match"):
        webhooks.verify(
            secret="wrong-secret",
            body=body,
            timestamp="1767225600",
            signature=signature,
            now=1767225600,
            tolerance=300,
        )
    with pytest.raises(webhooks.InvalidSignature, match="seconds away"):
        webhooks.verify(
            secret="right-secret",
            body=body,
            timestamp="1767225600",
            signature=signature,
            now=1767225600 + 301,
            tolerance=300,
        )


def test_failures_back_off_exponentially_then_dead_letter(
    policy, agent, endpoint, receiver, settings
):
    settings.REFUNDS_OUTBOX_MAX_ATTEMPTS = 4
    receiver.statuses = [500, 503, 502, 500]
    approved_refund(agent)
    message = webhook_messages().get()
    start = timezone.now()
    waits = []

    with time_machine.travel(start, tick=False) as traveller:
        for _ in range(4):
            status = outbox_deliver(message_id=str(message.pk))
            message.refresh_from_db()
            if status == Status.PENDING:
                waits.append(message.next_attempt_at - timezone.now())
                assert outbox_deliver(message_id=str(message.pk)) == Status.PENDING
                traveller.move_to(message.next_attempt_at)

    assert waits == [
        timedelta(seconds=30),
        timedelta(seconds=60),
        timedelta(seconds=120),
    ]
    assert message.status == Status.DEAD
    assert message.attempts == 4
    assert "HTTP 500" in message.last_error
    assert len(receiver.deliveries) == 4


def test_backoff_is_capped(settings):
    settings.REFUNDS_OUTBOX_MAX_BACKOFF_SECONDS = 3600

    assert backoff(1) == timedelta(seconds=30)
    assert backoff(5) == timedelta(seconds=480)
    assert backoff(20) == timedelta(seconds=3600)


def test_dead_letter_retried_from_admin(
    client, policy, agent, supervisor, endpoint, receiver, settings
):
    settings.REFUNDS_OUTBOX_MAX_ATTEMPTS = 1
    receiver.statuses = [500]
    approved_refund(agent)
    message = webhook_messages().get()
    outbox_deliver(message_id=str(message.pk))
    client.force_login(supervisor.user)
    url = reverse("admin:refunds_deadletter_changelist")

    listing = client.get(url)
    response = client.post(
        url, {"action": "retry", "_selected_action": [str(message.pk)]}, follow=True
    )
    status = outbox_deliver(message_id=str(message.pk))

    assert "HTTP 500" in listing.content.decode()
    assert "Queued 1 message again." in response.content.decode()
    assert status == Status.DELIVERED
    assert [d.event_id for d in receiver.deliveries] == [str(message.event_id)] * 2


def test_sweep_delivers_lost_and_abandoned_messages_only(
    policy, agent, endpoint, receiver
):
    for number in ("#3001", "#3002", "#3003"):
        approved_refund(agent, number=number)
    lost, abandoned, held = webhook_messages().order_by("created_at")
    now = timezone.now()
    OutboxMessage.objects.filter(pk=abandoned.pk).update(
        attempts=1, locked_until=now - timedelta(seconds=1)
    )
    OutboxMessage.objects.filter(pk=held.pk).update(
        attempts=1, locked_until=now + timedelta(minutes=5)
    )
    OutboxMessage.objects.filter(channel=OutboxMessage.Channel.EMAIL).update(
        status=Status.DELIVERED
    )

    attempted = outbox_sweep()

    assert attempted == 2
    assert set(receiver.event_ids()) == {str(lost.event_id), str(abandoned.event_id)}
    held.refresh_from_db()
    assert held.status == Status.PENDING


def test_commit_enqueues_delivery_and_one_sweep(
    policy, agent, endpoint, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        approved_refund(agent)
    message = webhook_messages().get()

    deliveries = DBTaskResult.objects.filter(
        task_path=deliver_outbox_message.module_path
    )
    sweeps = DBTaskResult.objects.filter(task_path=sweep_outbox.module_path)
    assert str(message.pk) in [task.args_kwargs["args"][0] for task in deliveries]
    assert sweeps.count() == 1
    assert sweeps.get().run_after > timezone.now()
    assert sweep_schedule() is False
    assert sweeps.count() == 1


def test_worker_delivers_enqueued_messages(
    policy, agent, endpoint, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        refund = approved_refund(agent)

    run_ready_tasks()

    assert receiver.event_ids() == [str(webhook_messages().get().event_id)]
    assert webhook_messages().get().status == Status.DELIVERED
    assert [m.subject for m in mail.outbox] == [
        "Ana Tester, we received your refund request for order #1001",
        "Ana Tester, your refund of $10.00 for order #1001 is approved",
    ]
    assert refund.reference in mail.outbox[1].body


def run_ready_tasks() -> None:
    """Run every ready task with db_worker's own code, in this test's transaction.

    The command's loop closes database connections between tasks, which the
    test transaction does not survive; test_worker runs the real command.
    """
    worker = Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    )
    for task_result in DBTaskResult.objects.ready().order_by("enqueued_at"):
        task_result.claim(worker.worker_id)
        worker.run_task(task_result)
        task_result.refresh_from_db()
        assert task_result.status == "SUCCESSFUL", task_result.traceback


def decoded_subject(message) -> str:
    raw = message_from_bytes(message.message().as_bytes())["Subject"]
    return str(make_header(decode_header(raw)))


def deliver_all_email():
    for message in OutboxMessage.objects.filter(
        channel=OutboxMessage.Channel.EMAIL, status=Status.PENDING
    ).order_by("created_at"):
        outbox_deliver(message_id=str(message.pk))


def test_customer_emails_follow_the_request(policy, agent):
    order = make_order(customer_name="Zoë 🚀 Tester", lines=[("Lamp", "40.00", 2, "L")])
    approved = refund_approve(
        refund=request_refund(order, {1: 1}),
        actor=Actor.for_agent(agent),
        amount_minor=1500,
        reason="Partial: the lamp works.",
    )
    refund_mark_refunded(refund=approved, actor=Actor.for_agent(agent))
    rejected = refund_reject(
        refund=request_refund(order, {1: 1}),
        actor=Actor.for_agent(agent),
        reason="Remboursement refusé — colis abîmé par l’usage 📦💥",
    )

    deliver_all_email()

    subjects = [decoded_subject(message) for message in mail.outbox]
    assert subjects == [
        "Zoë 🚀 Tester, we received your refund request for order #1001",
        "Zoë 🚀 Tester, your refund of $15.00 for order #1001 is approved",
        "Zoë 🚀 Tester, your refund of $15.00 for order #1001 was paid back",
        "Zoë 🚀 Tester, we received your refund request for order #1001",
        "Zoë 🚀 Tester, your refund request for order #1001 was not approved",
    ]
    raw_subject = mail.outbox[1].message().as_bytes().split(b"\n")
    assert any(line.startswith(b"Subject: =?utf-8?") for line in raw_subject)
    approved_mail = mail.outbox[1]
    assert isinstance(approved_mail, EmailMultiAlternatives)
    assert "$15.00 of the $40.00 requested" in approved_mail.body
    assert "Partial: the lamp works." in approved_mail.body
    html, mimetype = approved_mail.alternatives[0]
    assert mimetype == "text/html"
    assert isinstance(html, str)
    assert "<strong>$15.00</strong>" in html
    assert "Remboursement refusé — colis abîmé par l’usage 📦💥" in mail.outbox[4].body
    assert rejected.token in mail.outbox[4].body


def test_email_escapes_customer_text_in_html_only(policy, agent):
    order = make_order(customer_name="Zoë <img src=x onerror=alert(1)>")
    refund_reject(
        refund=request_refund(order),
        actor=Actor.for_agent(agent),
        reason="</p><script>alert(1)</script>",
    )

    deliver_all_email()

    rejected = mail.outbox[-1]
    assert isinstance(rejected, EmailMultiAlternatives)
    html = rejected.alternatives[0][0]
    assert isinstance(html, str)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "&lt;img src=x" in html
    assert "</p><script>alert(1)</script>" in rejected.body


def test_status_page_shows_the_same_events(client, policy, agent):
    order = make_order(lines=[("Lamp", "40.00", 1, "L")])
    refund = refund_approve(
        refund=request_refund(order), actor=Actor.for_agent(agent), reason="OK."
    )
    refund_mark_refunded(refund=refund, actor=Actor.for_agent(agent))

    titles = [entry.title for entry in public_timeline(refund) if entry.kind == "event"]
    page = client.get(reverse("refunds:status", args=[refund.token])).content.decode()

    assert titles[0] == "Request received for $40.00"
    assert "Approved: $40.00" in titles
    assert "Refunded: $40.00" in titles
    for title in titles:
        assert title in page


def test_order_without_email_gets_no_email(policy, agent):
    order = make_order(email="")

    approved_refund_without_mail = refund_approve(
        refund=request_refund(order), actor=Actor.for_agent(agent)
    )

    assert approved_refund_without_mail.status == RefundRequest.Status.APPROVED
    assert not OutboxMessage.objects.filter(channel="email").exists()


def test_webhook_payload_is_stable_json():
    payload = {"b": 1, "a": "é", "c": {"z": None}}

    body = webhooks.serialize(payload)

    assert body == '{"a":"é","b":1,"c":{"z":null}}'.encode()
    assert json.loads(body) == payload
