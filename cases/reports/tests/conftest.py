"""A small desk with known figures for March 2025, built through the services.

All times are UTC (the test settings' TIME_ZONE). Every case has the same
SLA policy: first reply within 60 minutes, solved within 8 hours, and the
teams have no business hours, so every minute counts.

Cases (team, channel, assignee; events):
  A  Refunds, email, Alex: created 2 Mar 09:00, reply 09:10, solved 11:00
  B  Refunds, API, Alex: created 3 Mar 09:00, reply 09:30, solved 19:00
  C  Refunds, contact form, Bea: created 4 Mar 09:00, reply 11:00, open
  D  General, email, Bea: created 5 Mar 09:00, no reply, open
  E  Refunds, email, Alex: created 20 Feb 09:00, reply 09:05, solved
     6 Mar 10:00, reopened by the customer 7 Mar 09:00, reply 12:00,
     solved again 8 Mar 10:00
  F  Refunds, email, nobody: created 1 Feb 09:00, open

Refund requests, all filed in March (case, currency, amount, reason;
decision):
  R1  A, USD 25.00, damaged; approved automatically, marked refunded
  R2  B, USD 80.00, damaged; Alex approves 60.00
  R3  C, JPY 5000, does not fit; Sam (supervisor) approves in full
  R4  E, USD 10.00, wrong item; Alex rejects
  R5  D, USD 40.00, damaged; undecided

Surveys: one per solve (A, B and E twice, all for Alex). A is rated 5,
B 4 and E's first solve 2. E's second survey has no answer.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import time_machine

from cases.audit import Actor
from cases.models import Customer, SatisfactionSurvey, SlaPolicy, SupportCase
from cases.services import (
    case_add_customer_message,
    case_assign,
    case_change_status,
    case_create,
    case_reply,
)
from cases.surveys.services import survey_answer
from refunds.models import RefundRequest
from refunds.services import refund_approve, refund_mark_refunded, refund_reject
from refunds.tests.factories import recent_order

# The moment the report is computed, after every event above.
NOW = datetime(2025, 4, 2, 12, 0, tzinfo=UTC)
MARCH = {"start": "2025-03-01", "end": "2025-03-31"}


@contextmanager
def at(year: int, month: int, day: int, hour: int, minute: int = 0):
    with time_machine.travel(
        datetime(year, month, day, hour, minute, tzinfo=UTC), tick=False
    ):
        yield


def open_case(*, team, channel, assignee, customer, when) -> SupportCase:
    with at(*when):
        case = case_create(
            actor=Actor.customer(customer.name),
            subject="Question",
            channel=channel,
            body="Hello",
            customer=customer,
            team=team,
        )
        if assignee is not None:
            case = case_assign(
                case=case, actor=Actor.for_agent(assignee), assignee=assignee
            )
    return case


def reply(case, agent, when) -> None:
    with at(*when):
        case_reply(case=case, actor=Actor.for_agent(agent), body="On it.")


def solve(case, agent, when, capture) -> None:
    with at(*when), capture(execute=True):
        case_change_status(case=case, actor=Actor.for_agent(agent), status="solved")


def refund_on(
    case, order, *, minor, reason, when: tuple[int, int, int, int]
) -> RefundRequest:
    return RefundRequest.objects.create(
        order=order,
        case=case,
        customer=case.customer,
        reason_code=reason,
        currency=order.currency,
        requested_minor=minor,
        outcome=RefundRequest.Outcome.NEEDS_AGENT,
        created_at=datetime(*when, tzinfo=UTC),
    )


@pytest.fixture
def sla_policy(db) -> SlaPolicy:
    return SlaPolicy.objects.create(
        priority=SupportCase.Priority.NORMAL,
        first_response_minutes=60,
        resolution_minutes=8 * 60,
    )


@pytest.fixture
def desk(
    sla_policy,
    policy,
    make_agent,
    refunds_team,
    general_team,
    integration,
    supervisor,
    django_capture_on_commit_callbacks,
):
    capture = django_capture_on_commit_callbacks
    alex = make_agent("Alex Agent", limit="100")
    bea = make_agent("Bea Agent", teams=[refunds_team, general_team])
    sam = supervisor
    customer = Customer.objects.create(
        key="email:zoe@example.org", email="zoe@example.org", name="Zoë"
    )
    channel = SupportCase.Channel
    common = {"customer": customer}

    a = open_case(
        team=refunds_team,
        channel=channel.EMAIL,
        assignee=alex,
        when=(2025, 3, 2, 9),
        **common,
    )
    reply(a, alex, (2025, 3, 2, 9, 10))
    solve(a, alex, (2025, 3, 2, 11), capture)

    b = open_case(
        team=refunds_team,
        channel=channel.API,
        assignee=alex,
        when=(2025, 3, 3, 9),
        **common,
    )
    reply(b, alex, (2025, 3, 3, 9, 30))
    solve(b, alex, (2025, 3, 3, 19), capture)

    c = open_case(
        team=refunds_team,
        channel=channel.CONTACT_FORM,
        assignee=bea,
        when=(2025, 3, 4, 9),
        **common,
    )
    reply(c, bea, (2025, 3, 4, 11))

    d = open_case(
        team=general_team,
        channel=channel.EMAIL,
        assignee=bea,
        when=(2025, 3, 5, 9),
        **common,
    )

    e = open_case(
        team=refunds_team,
        channel=channel.EMAIL,
        assignee=alex,
        when=(2025, 2, 20, 9),
        **common,
    )
    reply(e, alex, (2025, 2, 20, 9, 5))
    solve(e, alex, (2025, 3, 6, 10), capture)
    with at(2025, 3, 7, 9):
        case_add_customer_message(
            case=e, actor=Actor.customer("Zoë"), body="It broke again."
        )
    reply(e, alex, (2025, 3, 7, 12))
    solve(e, alex, (2025, 3, 8, 10), capture)

    f = open_case(
        team=refunds_team,
        channel=channel.EMAIL,
        assignee=None,
        when=(2025, 2, 1, 9),
        **common,
    )

    with at(2025, 3, 1, 8):
        usd = recent_order("#2001", lines=[("Big box", "500.00", 1, "BOX")])
        jpy = recent_order(
            "#2002", lines=[("Kettle", "10000", 1, "KET")], currency="JPY"
        )
    reason = RefundRequest.Reason
    r1 = refund_on(a, usd, minor=2500, reason=reason.DAMAGED, when=(2025, 3, 2, 9))
    r2 = refund_on(b, usd, minor=8000, reason=reason.DAMAGED, when=(2025, 3, 3, 9))
    r3 = refund_on(c, jpy, minor=5000, reason=reason.DOES_NOT_FIT, when=(2025, 3, 4, 9))
    r4 = refund_on(e, usd, minor=1000, reason=reason.WRONG_ITEM, when=(2025, 3, 6, 9))
    r5 = refund_on(d, usd, minor=4000, reason=reason.DAMAGED, when=(2025, 3, 5, 9))
    with at(2025, 3, 2, 9, 1):
        refund_approve(refund=r1, actor=Actor.system("Automatic approval"))
    with at(2025, 3, 4, 10):
        refund_mark_refunded(
            refund=r1, actor=Actor.integration(integration), external_reference="X1"
        )
    with at(2025, 3, 3, 10):
        refund_approve(refund=r2, actor=Actor.for_agent(alex), amount_minor=6000)
    with at(2025, 3, 4, 12):
        refund_approve(refund=r3, actor=Actor.for_agent(sam))
    with at(2025, 3, 6, 11):
        refund_reject(refund=r4, actor=Actor.for_agent(alex), reason="Not ours.")

    surveys = SatisfactionSurvey.objects.order_by("solved_at")
    with at(2025, 3, 9, 9):
        for survey, rating in zip(surveys, [5, 4, 2], strict=False):
            survey_answer(survey=survey, rating=rating)

    return SimpleNamespace(
        alex=alex,
        bea=bea,
        sam=sam,
        cases=[a, b, c, d, e, f],
        refunds=[r1, r2, r3, r4, r5],
    )
