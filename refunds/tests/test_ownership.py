"""Proof of ownership: an emailed one-time code before the refund form opens."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from refunds.models import OutboxMessage, OwnershipChallenge
from refunds.services.outbox import outbox_deliver
from refunds.services.ownership import (
    MAX_ATTEMPTS,
    CodeInvalid,
    ownership_challenge_start,
    ownership_challenge_verify,
)
from refunds.tests.factories import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def proof_policy(policy):
    policy.require_ownership_proof = True
    policy.save()
    return policy


def sent_code() -> str:
    """Deliver the queued code email and return the code in it."""
    message = OutboxMessage.objects.filter(event_type="refund.ownership_code").latest(
        "created_at"
    )
    outbox_deliver(message_id=str(message.pk))
    code = re.search(r"\b(\d{6})\b", str(mail.outbox[-1].body))
    assert code is not None, "the email contains no six-digit code"
    return code.group(1)


def look_up(client, order):
    return client.post(
        reverse("refunds:start"),
        {"order_number": order.number, "email": order.email},
    )


def test_lookup_sends_code_and_right_code_opens_form(client, proof_policy):
    order = make_order()

    lookup = look_up(client, order)
    blocked = client.get(reverse("refunds:order", args=[order.pk]))
    code = sent_code()
    verified = client.post(reverse("refunds:verify", args=[order.pk]), {"code": code})
    opened = client.get(reverse("refunds:order", args=[order.pk]))

    assert lookup.status_code == 302
    assert lookup.headers["Location"] == reverse("refunds:verify", args=[order.pk])
    assert blocked.status_code == 404
    assert mail.outbox[-1].to == [order.email]
    assert verified.status_code == 302
    assert opened.status_code == 200


def test_wrong_code_counts_and_then_locks(client, proof_policy):
    order = make_order()
    look_up(client, order)
    code = sent_code()
    wrong = "000000" if code != "000000" else "111111"

    responses = [
        client.post(reverse("refunds:verify", args=[order.pk]), {"code": wrong})
        for _ in range(MAX_ATTEMPTS)
    ]
    late = client.post(reverse("refunds:verify", args=[order.pk]), {"code": code})

    assert [r.status_code for r in responses] == [422] * MAX_ATTEMPTS
    assert "1 try left" in responses[-2].content.decode()
    assert "Too many wrong codes" in late.content.decode()
    assert client.get(reverse("refunds:order", args=[order.pk])).status_code == 404


def test_expired_code_is_rejected(proof_policy):
    order = make_order()
    challenge = ownership_challenge_start(order=order)
    code = sent_code()

    with (
        time_machine.travel(timezone.now() + timedelta(minutes=16)),
        pytest.raises(CodeInvalid, match="expired"),
    ):
        ownership_challenge_verify(challenge=challenge, code=code)


def try_codes(browser, order, count):
    url = reverse("refunds:verify", args=[order.pk])
    return [browser.post(url, {"code": "999999"}).status_code for _ in range(count)]


def test_code_attempts_are_rate_limited_per_address(proof_policy):
    order = make_order()
    browsers = [Client(REMOTE_ADDR=f"203.0.113.{number}") for number in (1, 2, 3)]

    statuses = []
    for browser in browsers:
        look_up(browser, order)
        statuses += try_codes(browser, order, 4)

    assert statuses[:10] == [422] * 10
    assert statuses[10:] == [429, 429]


def test_code_attempts_are_rate_limited_per_ip(client, proof_policy):
    orders = [
        make_order(f"#40{number}", email=f"buyer{number}@example.com")
        for number in (1, 2, 3)
    ]

    statuses = []
    for order in orders:
        look_up(client, order)
        statuses += try_codes(client, order, 4)

    assert statuses[:10] == [422] * 10
    assert statuses[10:] == [429, 429]


def test_verify_needs_code_for_browser(client, proof_policy):
    order = make_order()
    ownership_challenge_start(order=order)

    response = client.post(
        reverse("refunds:verify", args=[order.pk]), {"code": "123456"}
    )

    assert response.status_code == 404


def test_resend_replaces_the_code(client, proof_policy):
    order = make_order()
    look_up(client, order)
    first = sent_code()

    client.post(reverse("refunds:verify-resend", args=[order.pk]))
    second = sent_code()
    old = client.post(reverse("refunds:verify", args=[order.pk]), {"code": first})
    new = client.post(reverse("refunds:verify", args=[order.pk]), {"code": second})

    assert OwnershipChallenge.objects.count() == 2
    assert old.status_code == 422 or first == second
    assert new.status_code == 302


def test_without_the_option_lookup_opens_form_directly(client, policy):
    order = make_order()

    response = look_up(client, order)

    assert response.headers["Location"] == reverse("refunds:order", args=[order.pk])
    assert not OwnershipChallenge.objects.exists()
