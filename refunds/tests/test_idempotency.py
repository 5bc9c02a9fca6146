"""Idempotency keys: one write per key, the first response replayed."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from cases.audit import Actor
from refunds.models import IdempotencyRecord, RefundAttempt, RefundRequest
from refunds.services import refund_request_create
from refunds.services.idempotency import (
    IdempotencyKeyReused,
    idempotency_purge,
    idempotency_scope,
    idempotent_call,
    request_fingerprint,
)
from refunds.tests.factories import make_order
from supportdesk.errors import DomainError

BODY = b'{"order": "#1001", "lines": {"1": 1}, "reason": "damaged"}'


def file_request(order):
    def perform():
        refund = refund_request_create(
            order=order,
            selection={order.lines.get().pk: 1},
            reason_code="damaged",
            reason_text="",
            actor=Actor.customer(),
        )
        return 201, {"refund": refund.reference}

    return perform


@pytest.mark.django_db
def test_same_key_and_body_returns_first_response(policy, agent):
    order = make_order(lines=[("Mug", "12.00", 3, "MUG")])
    scope = idempotency_scope(Actor.for_agent(agent))
    fingerprint = request_fingerprint("POST", "/api/refunds/", BODY)

    first = idempotent_call(
        scope=scope, key="k-1", fingerprint=fingerprint, perform=file_request(order)
    )
    second = idempotent_call(
        scope=scope, key="k-1", fingerprint=fingerprint, perform=file_request(order)
    )

    assert first.status == 201
    assert first.replayed is False
    assert second.replayed is True
    assert (second.status, second.body) == (first.status, first.body)
    assert RefundRequest.objects.count() == 1


@pytest.mark.django_db
def test_same_key_other_body_is_rejected(policy, agent):
    order = make_order(lines=[("Mug", "12.00", 3, "MUG")])
    scope = idempotency_scope(Actor.for_agent(agent))
    idempotent_call(
        scope=scope,
        key="k-1",
        fingerprint=request_fingerprint("POST", "/api/refunds/", BODY),
        perform=file_request(order),
    )

    with pytest.raises(IdempotencyKeyReused) as raised:
        idempotent_call(
            scope=scope,
            key="k-1",
            fingerprint=request_fingerprint("POST", "/api/refunds/", b'{"x": 2}'),
            perform=file_request(order),
        )

    assert raised.value.status_code == 422
    assert RefundRequest.objects.count() == 1


@pytest.mark.django_db
def test_keys_of_two_callers_do_not_collide(policy, agent, supervisor):
    order = make_order(lines=[("Mug", "12.00", 3, "MUG")])
    fingerprint = request_fingerprint("POST", "/api/refunds/", BODY)

    for actor in (Actor.for_agent(agent), Actor.for_agent(supervisor)):
        idempotent_call(
            scope=idempotency_scope(actor),
            key="same-key",
            fingerprint=fingerprint,
            perform=file_request(order),
        )

    assert RefundRequest.objects.count() == 2


@pytest.mark.django_db
def test_refusal_is_stored_and_replayed(policy, agent):
    policy.non_refundable_tags = "final-sale"
    policy.save()
    order = make_order(tags="final-sale")
    scope = idempotency_scope(Actor.for_agent(agent))
    fingerprint = request_fingerprint("POST", "/api/refunds/", BODY)

    first = idempotent_call(
        scope=scope, key="k-2", fingerprint=fingerprint, perform=file_request(order)
    )
    second = idempotent_call(
        scope=scope, key="k-2", fingerprint=fingerprint, perform=file_request(order)
    )

    assert first.status == 400
    assert first.body["type"] == "urn:supportdesk:problem:not_eligible"
    assert "final sale" in first.body["detail"]
    assert second.body == first.body
    assert second.replayed is True
    assert RefundAttempt.objects.count() == 1


@pytest.mark.django_db
def test_unexpected_error_stores_nothing(agent):
    def broken():
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        idempotent_call(scope="user:1", key="k-3", fingerprint="f", perform=broken)

    assert not IdempotencyRecord.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "line\nbreak"])
def test_invalid_key_is_rejected(key):
    with pytest.raises(DomainError, match="idempotency key"):
        idempotent_call(
            scope="user:1", key=key, fingerprint="f", perform=lambda: (200, {})
        )


def test_fingerprint_ignores_key_order_not_values():
    base = request_fingerprint("POST", "/a", b'{"a": 1, "b": "6.95"}')

    assert request_fingerprint("post", "/a", b'{"b":"6.95","a":1}') == base
    assert request_fingerprint("POST", "/a", b'{"a": 1, "b": "6.950"}') != base
    assert request_fingerprint("POST", "/b", b'{"a": 1, "b": "6.95"}') != base
    assert request_fingerprint("POST", "/a", b"plain") != request_fingerprint(
        "POST", "/a", b"plain "
    )


@pytest.mark.django_db
def test_purge_deletes_old_responses_only():
    old = IdempotencyRecord.objects.create(
        scope="s",
        key="old",
        fingerprint="f",
        response_status=201,
        created_at=timezone.now() - timedelta(days=2),
    )
    IdempotencyRecord.objects.create(
        scope="s", key="new", fingerprint="f", response_status=201
    )

    assert idempotency_purge() == 1
    assert not IdempotencyRecord.objects.filter(pk=old.pk).exists()
    assert IdempotencyRecord.objects.count() == 1


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_concurrent_calls_with_one_key_write_once(policy, agent):
    order = make_order(lines=[("Mug", "12.00", 20, "MUG")])
    scope = idempotency_scope(Actor.for_agent(agent))
    fingerprint = request_fingerprint("POST", "/api/refunds/", BODY)
    threads_count = 12
    barrier = threading.Barrier(threads_count)
    outcomes, errors = [], []

    def call():
        try:
            barrier.wait(timeout=60)
            outcome = idempotent_call(
                scope=scope,
                key="shared-key",
                fingerprint=fingerprint,
                perform=file_request(order),
            )
            outcomes.append(outcome)
        except Exception as exc:  # reported by the asserts below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert len(outcomes) == threads_count
    assert RefundRequest.objects.count() == 1
    assert sum(1 for outcome in outcomes if not outcome.replayed) == 1
    assert {outcome.body["refund"] for outcome in outcomes} == {
        RefundRequest.objects.get().reference
    }
