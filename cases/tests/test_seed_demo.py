"""``manage.py seed_demo`` imports the bundled sample and can run again."""

from io import StringIO

import pytest
from django.core.management import call_command

from cases.audit import Actor
from cases.models import Order, OrderLine
from refunds.models import ReconciliationFlag, RefundRequest
from refunds.services import refund_approve, refund_mark_refunded

pytestmark = pytest.mark.django_db


def test_seed_demo_runs_twice():
    first, second = StringIO(), StringIO()

    call_command("seed_demo", stdout=first)
    call_command("seed_demo", stdout=second)

    assert "Imported 409 sample orders (409 new)." in first.getvalue()
    assert "the sample export was not imported again" in second.getvalue()
    assert Order.objects.count() == 409
    assert OrderLine.objects.count() == 811


def test_seed_demo_keeps_demo_refunds_unflagged(supervisor):
    call_command("seed_demo", stdout=StringIO())
    refund = RefundRequest.objects.filter(status=RefundRequest.Status.REQUESTED).first()
    assert refund is not None, "seed_demo filed no refund request"
    refund_approve(refund=refund, actor=Actor.for_agent(supervisor))
    refund_mark_refunded(refund=refund, actor=Actor.for_agent(supervisor))
    placed_before = Order.objects.get(pk=refund.order_id).placed_at

    call_command("seed_demo", stdout=StringIO())

    assert not ReconciliationFlag.objects.exists()
    assert Order.objects.get(pk=refund.order_id).placed_at == placed_before
