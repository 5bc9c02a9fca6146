"""Cases for tests, opened through the real service."""

from __future__ import annotations

from datetime import datetime

import time_machine

from agents.models import Team
from cases import services
from cases.audit import Actor
from cases.models import Customer, Order, SupportCase
from refunds.models import RefundRequest


def make_case(
    team: Team | None = None,
    *,
    subject: str = "Parcel missing",
    body: str = "Where is my parcel?",
    priority: int = SupportCase.Priority.NORMAL,
    customer: Customer | None = None,
    order: Order | None = None,
    at: datetime | None = None,
) -> SupportCase:
    """Open a case as a customer would, optionally at the time ``at``."""

    def create() -> SupportCase:
        return services.case_create(
            actor=Actor.customer("Ana Tester"),
            subject=subject,
            channel=SupportCase.Channel.EMAIL,
            body=body,
            team=team,
            priority=priority,
            customer=customer,
            order=order,
        )

    if at is None:
        return create()
    with time_machine.travel(at, tick=False):
        return create()


def make_refund_request(case: SupportCase, order: Order) -> RefundRequest:
    """Attach a refund request awaiting a decision to ``case``, bypassing the
    eligibility rules that the refunds app tests."""
    return RefundRequest.objects.create(
        order=order,
        case=case,
        customer=case.customer,
        reason_code=RefundRequest.Reason.DAMAGED,
        currency=order.currency,
        requested_minor=500,
        outcome=RefundRequest.Outcome.NEEDS_AGENT,
    )
