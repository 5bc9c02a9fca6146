"""Reading mailboxes with receive_mail, and retrying mail with send_queued_mail."""

from __future__ import annotations

import io
import mailbox
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from cases.audit import Actor
from cases.mail.models import InboundEmail, OutboundEmail
from cases.models import SupportCase
from cases.services import case_create, case_reply
from cases.tests.mail_helpers import load_eml

pytestmark = pytest.mark.django_db

PEOPLE = ["new-question-multipart.eml", "latin1-no-message-id.eml"]
AUTOMATIC = ["vacation-x-autoreply.eml", "newsletter-list.eml"]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def run(*args) -> str:
    out = io.StringIO()
    call_command("receive_mail", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def maildir(tmp_path):
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    for name in PEOPLE + AUTOMATIC:
        box.add(load_eml(name))
    return box


@pytest.fixture
def mbox_path(tmp_path):
    path = tmp_path / "support.mbox"
    box = mailbox.mbox(path, create=True)
    for name in PEOPLE + AUTOMATIC:
        box.add(load_eml(name))
    box.flush()
    box.close()
    return path


def test_maildir_read_and_marked_seen(maildir):
    output = run("--maildir", maildir._path)

    assert output.strip() == (
        "Read 4 messages: 4 stored, 0 already stored, 0 own messages dropped, "
        "0 rejected."
    )
    assert SupportCase.objects.count() == 2
    assert InboundEmail.objects.count() == 4
    assert all(
        maildir.get_message(key).get_subdir() == "cur" for key in maildir.iterkeys()
    )
    assert all(
        "S" in maildir.get_message(key).get_flags() for key in maildir.iterkeys()
    )


def test_maildir_second_run_reads_nothing(maildir):
    run("--maildir", maildir._path)

    output = run("--maildir", maildir._path)

    assert output.startswith("Read 0 messages")
    assert InboundEmail.objects.count() == 4


def test_maildir_malformed_message_flagged(maildir):
    bad_key = maildir.add(b"Subject: no sender\n\nHello\n")

    with pytest.raises(CommandError, match="1 messages were rejected"):
        run("--maildir", maildir._path)

    assert "F" in maildir.get_message(bad_key).get_flags()
    assert InboundEmail.objects.count() == 4
    assert run("--maildir", maildir._path).startswith("Read 0 messages")


def test_maildir_delete_removes_handled(maildir):
    run("--maildir", maildir._path, "--delete")

    assert len(maildir) == 0
    assert InboundEmail.objects.count() == 4


def test_mbox_read_twice_stored_once(mbox_path):
    first = run("--mbox", str(mbox_path))
    second = run("--mbox", str(mbox_path))

    assert "4 stored" in first
    assert "0 stored, 4 already stored" in second
    assert InboundEmail.objects.count() == 4
    assert SupportCase.objects.count() == 2
    assert len(mailbox.mbox(mbox_path)) == 4


def test_mbox_delete_empties_file(mbox_path):
    run("--mbox", str(mbox_path), "--delete")

    assert len(mailbox.mbox(mbox_path)) == 0
    assert InboundEmail.objects.count() == 4


@pytest.mark.parametrize("option", ["--maildir", "--mbox"])
def test_missing_mailbox_fails(tmp_path, option):
    with pytest.raises(CommandError, match="No "):
        run(option, str(tmp_path / "missing"))


def test_failed_delivery_retried_by_command(
    settings, agent, django_capture_on_commit_callbacks
):
    # Nothing listens on this port, so the SMTP connection is refused.
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 8599, "timeout": 2},
        }
    }
    case = case_create(
        actor=Actor.customer("Zoë"),
        subject="Where is my parcel?",
        channel=SupportCase.Channel.EMAIL,
        body="Hello",
    )
    case.customer = _customer()
    case.save()

    with django_capture_on_commit_callbacks(execute=True):
        message = case_reply(
            case=case, actor=Actor.for_agent(agent), body="On its way."
        )

    outbound = OutboundEmail.objects.get(case_message=message)
    assert outbound.status == OutboundEmail.Status.QUEUED
    assert outbound.attempts == 1
    assert outbound.last_error == "ConnectionRefusedError"
    assert outbound.next_attempt_at > timezone.now()

    settings.MAILERS = {
        "default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    }
    OutboundEmail.objects.filter(pk=outbound.pk).update(next_attempt_at=timezone.now())
    out = io.StringIO()
    call_command("send_queued_mail", stdout=out)

    outbound.refresh_from_db()
    assert out.getvalue().strip() == "Sent 1 of 1 due emails."
    assert outbound.status == OutboundEmail.Status.SENT
    assert outbound.attempts == 2
    assert len(mail.outbox) == 1
    assert mail.outbox[0].extra_headers["Message-ID"] == f"<{outbound.message_id}>"


def test_send_queued_mail_skips_emails_not_due(
    agent, django_capture_on_commit_callbacks
):
    case = case_create(
        actor=Actor.customer("Zoë"),
        subject="Later",
        channel=SupportCase.Channel.EMAIL,
        body="Hello",
        customer=_customer(),
    )
    with django_capture_on_commit_callbacks(execute=False):
        case_reply(case=case, actor=Actor.for_agent(agent), body="Queued only.")
    OutboundEmail.objects.update(next_attempt_at=timezone.now() + timedelta(hours=1))
    out = io.StringIO()

    call_command("send_queued_mail", stdout=out)

    assert out.getvalue().strip() == "Sent 0 of 0 due emails."
    assert mail.outbox == []


def _customer():
    from cases.models import Customer

    return Customer.objects.create(
        key="email:zoe.queue@example.org", email="zoe.queue@example.org", name="Zoë"
    )
