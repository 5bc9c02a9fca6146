"""The demo data works with the email channel: replies and surveys go out."""

from __future__ import annotations

import io

import pytest
from django.core import mail
from django.core.management import call_command

from agents.models import Agent
from cases.audit import Actor
from cases.mail.models import OutboundEmail
from cases.models import Order, SatisfactionSurvey, SupportCase
from cases.services import case_change_status, case_reply

pytestmark = pytest.mark.django_db


def test_seed_demo_twice_keeps_one_copy():
    call_command("seed_demo", stdout=io.StringIO())
    counts = (Order.objects.count(), SupportCase.objects.count(), Agent.objects.count())

    out = io.StringIO()
    call_command("seed_demo", stdout=out)

    assert counts[0] > 0
    assert counts[2] == 3
    assert (
        Order.objects.count(),
        SupportCase.objects.count(),
        Agent.objects.count(),
    ) == counts
    assert "Demo agents (log in at /login/):" in out.getvalue()


def test_demo_question_answered_by_email(django_capture_on_commit_callbacks):
    call_command("seed_demo", stdout=io.StringIO())
    case = SupportCase.objects.get(channel=SupportCase.Channel.CONTACT_FORM)
    alex = Agent.objects.get(user__username="alex")
    actor = Actor.for_agent(alex)

    with django_capture_on_commit_callbacks(execute=True):
        case_reply(case=case, actor=actor, body="Your parcel left the depot today.")
        case_change_status(case=case, actor=actor, status="solved")

    assert [email.kind for email in OutboundEmail.objects.order_by("id")] == [
        OutboundEmail.Kind.REPLY,
        OutboundEmail.Kind.SURVEY,
    ]
    assert [m.to for m in mail.outbox] == [[case.customer.email]] * 2
    assert SatisfactionSurvey.objects.get().agent == alex
