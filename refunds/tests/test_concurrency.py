"""Simultaneous approvals and requests on one order never refund more than paid.

Each thread has its own database connection, so the threads race for real on
SQLite (one writer at a time, IMMEDIATE transactions) and on PostgreSQL (row
locks). Run with DATABASE_URL set to a PostgreSQL database for the latter.
"""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from cases.audit import Actor
from cases.models import Order
from refunds.models import OutboxMessage, RefundDecision, RefundRequest
from refunds.services import NotEligible, refund_approve, refund_request_create
from refunds.tests.factories import make_order, reimport, request_refund
from supportdesk.errors import DomainError, StateConflict

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

THREADS = 20


def run_at_once(target, arguments):
    """Run ``target(argument)`` in one thread per argument, started together.

    Returns the results and the exceptions, in no particular order.
    """
    barrier = threading.Barrier(len(arguments))
    results, errors = [], []
    lock = threading.Lock()

    def run(argument):
        try:
            barrier.wait(timeout=60)
            result = target(argument)
            with lock:
                results.append(result)
        except Exception as exc:  # collected for the test's asserts
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(arg,)) for arg in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads)
    return results, errors


def test_approvals_cannot_pass_what_is_left(policy, supervisor):
    lines = [("Cup", "5.00", THREADS, "CUP")]
    order = make_order(lines=lines)
    refunds = [request_refund(order, {1: 1}) for _ in range(THREADS)]
    reimport(lines=lines, status="partially_refunded", refunded="50.00")
    actor = Actor.for_agent(supervisor)

    approved, errors = run_at_once(
        lambda refund: refund_approve(refund=refund, actor=actor), refunds
    )

    order = Order.objects.get(pk=order.pk)
    assert len(approved) == 10
    assert len(errors) == 10
    assert all(isinstance(error, DomainError) for error in errors), errors
    assert all("left to refund" in error.message for error in errors)
    assert order.refunded_minor == 5000
    assert order.refunded_minor + order.external_refunded_minor <= order.paid_minor
    assert RefundDecision.objects.filter(kind="approved").count() == 10
    assert (
        RefundRequest.objects.filter(status=RefundRequest.Status.APPROVED).count() == 10
    )


def test_double_clicks_approve_once(policy, agent):
    order = make_order(lines=[("Cup", "3.92", 1, "CUP")])
    refund = request_refund(order)
    actor = Actor.for_agent(agent)

    approved, errors = run_at_once(
        lambda _: refund_approve(refund=refund, actor=actor), list(range(THREADS))
    )

    assert len(approved) == 1
    assert len(errors) == THREADS - 1
    assert all(isinstance(error, StateConflict) for error in errors), errors
    assert Order.objects.get(pk=order.pk).refunded_minor == 392
    assert RefundDecision.objects.count() == 1
    assert OutboxMessage.objects.filter(event_type="refund.approved").count() == 1


def test_requests_cannot_take_more_units_than_ordered(policy):
    policy.auto_approve_limit = Decimal("1000")
    policy.save()
    order = make_order(lines=[("Cup", "7.77", 10, "CUP")], taxes="1.01")
    line = order.lines.get()

    def file(number):
        return refund_request_create(
            order=order,
            selection={line.pk: 1},
            reason_code="damaged",
            reason_text="",
            actor=Actor.customer(),
            submission_key=f"form-{number}",
        )

    filed, errors = run_at_once(file, list(range(THREADS)))

    order = Order.objects.get(pk=order.pk)
    assert len(filed) == 10
    assert all(refund.status == RefundRequest.Status.APPROVED for refund in filed)
    assert len(errors) == 10
    assert all(isinstance(error, NotEligible) for error in errors), errors
    assert order.lines.get().quantity_reserved == 10
    assert order.refunded_minor == order.paid_minor == 7871
    assert sum(refund.approved_minor for refund in filed) == 7871


def test_resubmitted_form_files_one_request(policy):
    order = make_order(lines=[("Cup", "7.77", 10, "CUP")])
    line = order.lines.get()

    def file(_):
        return refund_request_create(
            order=order,
            selection={line.pk: 2},
            reason_code="damaged",
            reason_text="",
            actor=Actor.customer(),
            submission_key="one-form",
        )

    filed, errors = run_at_once(file, list(range(THREADS)))

    assert errors == []
    assert len({refund.pk for refund in filed}) == 1
    assert RefundRequest.objects.count() == 1
    assert Order.objects.get(pk=order.pk).lines.get().quantity_reserved == 2
