"""Reconciliation of a later import's refunded total with Supportdesk's record."""

import pytest

from cases.audit import Actor
from cases.models import Order
from refunds.models import ReconciliationFlag
from refunds.services import refund_approve, refund_mark_refunded
from refunds.services.reconciliation import flag_resolve
from refunds.tests.factories import make_order, reimport, request_refund
from supportdesk.errors import PermissionDenied

pytestmark = pytest.mark.django_db

LINES = [("Kettle", "25.00", 2, "KTL")]
Kind = ReconciliationFlag.Kind


def test_first_import_of_a_refunded_order_flags_nothing(policy):
    make_order(lines=LINES, status="partially_refunded", refunded="20.00")

    assert not ReconciliationFlag.objects.exists()


def test_shop_admin_refund_is_flagged(policy):
    order = make_order(lines=LINES)

    reimport(lines=LINES, status="partially_refunded", refunded="20.00")

    flag = ReconciliationFlag.objects.get()
    assert flag.order == order
    assert flag.kind == Kind.SHOP_REFUNDED_MORE
    assert (flag.shop_refunded_minor, flag.expected_minor) == (2000, 0)
    assert "$20.00" in flag.detail
    assert "$0.00" in flag.detail
    order.refresh_from_db()
    assert order.external_refunded_minor == 2000
    assert order.refundable_minor == 3000


def test_same_figures_again_raise_no_new_flag(policy):
    make_order(lines=LINES)
    reimport(lines=LINES, status="partially_refunded", refunded="20.00")

    reimport(lines=LINES, status="partially_refunded", refunded="20.00")

    assert ReconciliationFlag.objects.count() == 1


def test_confirmed_payout_frees_remainder(policy, agent):
    order = make_order(lines=LINES)
    refund = refund_approve(
        refund=request_refund(order, {1: 1}), actor=Actor.for_agent(agent)
    )

    reimport(lines=LINES, status="partially_refunded", refunded="25.00")
    order.refresh_from_db()
    remainder_before_confirmation = order.refundable_minor
    refund_mark_refunded(refund=refund, actor=Actor.for_agent(agent))
    order.refresh_from_db()

    assert remainder_before_confirmation == 0
    flag = ReconciliationFlag.objects.get()
    assert flag.kind == Kind.SHOP_REFUNDED_MORE
    assert "mark it refunded" in flag.detail
    assert order.external_refunded_minor == 0
    assert order.refundable_minor == 2500


def test_refund_that_failed_in_shop_is_flagged(policy, agent):
    order = make_order(lines=LINES)
    refund = refund_approve(
        refund=request_refund(order, {1: 1}), actor=Actor.for_agent(agent)
    )
    refund_mark_refunded(refund=refund, actor=Actor.for_agent(agent))

    reimport(lines=LINES, status="paid", refunded="0")

    flag = ReconciliationFlag.objects.get()
    assert flag.kind == Kind.SHOP_REFUNDED_LESS
    assert (flag.shop_refunded_minor, flag.expected_minor) == (0, 2500)
    assert flag.supportdesk_approved_minor == 2500
    order.refresh_from_db()
    assert order.refunded_minor == 2500
    assert order.refundable_minor == 2500


def test_shop_refunds_never_push_total_above_paid(policy, agent):
    order = make_order(lines=LINES)
    refund_approve(refund=request_refund(order), actor=Actor.for_agent(agent))

    reimport(lines=LINES, status="refunded", refunded="50.00")

    order = Order.objects.get(pk=order.pk)
    assert order.refunded_minor + order.external_refunded_minor <= order.paid_minor
    assert order.refundable_minor == 0
    assert ReconciliationFlag.objects.get().kind == Kind.SHOP_REFUNDED_MORE


def test_only_supervisor_resolves_a_flag(policy, agent, supervisor):
    make_order(lines=LINES)
    reimport(lines=LINES, status="partially_refunded", refunded="20.00")
    flag = ReconciliationFlag.objects.get()

    with pytest.raises(PermissionDenied):
        flag_resolve(flag=flag, actor=Actor.for_agent(agent), note="Checked.")
    resolved = flag_resolve(
        flag=flag, actor=Actor.for_agent(supervisor), note="Refunded by phone."
    )
    reimport(lines=LINES, status="partially_refunded", refunded="20.00")

    assert resolved.status == ReconciliationFlag.Status.RESOLVED
    assert resolved.resolved_by == supervisor.user
    assert ReconciliationFlag.objects.count() == 1


def test_admin_lists_flags_with_both_figures(client, policy, supervisor):
    make_order(lines=LINES)
    reimport(lines=LINES, status="partially_refunded", refunded="20.00")
    client.force_login(supervisor.user)

    page = client.get("/admin/refunds/reconciliationflag/").content.decode()

    assert "$20.00" in page
    assert "$0.00" in page
    assert "#1001" in page
