"""Writes to cases: each transition checks the state and leaves an audit entry."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from cases.audit import Actor
from cases.models import AuditEvent, CaseMessage, SupportCase
from cases.services import (
    StaleCase,
    case_add_customer_message,
    case_add_note,
    case_assign,
    case_change_priority,
    case_change_status,
    case_create,
    case_reply,
    case_reply_and_set_status,
)
from supportdesk.errors import DomainError, PermissionDenied, StateConflict

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(refunds_team) -> SupportCase:
    return case_create(
        actor=Actor.customer("Ana Tester"),
        subject="Where is my parcel?",
        channel=SupportCase.Channel.CONTACT_FORM,
        body="Hello",
        team=refunds_team,
        author_name="Ana Tester",
    )


def events(case: SupportCase, action: str) -> int:
    return AuditEvent.objects.filter(case=case, action=action).count()


def test_create_stores_first_message_and_event(case):
    message = case.messages.get()

    assert message.kind == CaseMessage.Kind.CUSTOMER
    assert message.author_name == "Ana Tester"
    assert message.body == "Hello"
    assert case.status == SupportCase.Status.OPEN
    assert events(case, "cases.case.created") == 1


@pytest.mark.parametrize(
    "subject",
    [
        "Remboursement demandé — colis abîmé, commande #1032",
        "Zoë 🚀 Tester 👨\u200d👩\u200d👧",
    ],
)
def test_create_keeps_subject_exactly(refunds_team, subject):
    case = case_create(
        actor=Actor.system(), subject=subject, channel="email", team=refunds_team
    )

    case.refresh_from_db()
    assert case.subject == subject


def test_create_cuts_long_subject_whole_characters(refunds_team):
    case = case_create(actor=Actor.system(), subject="📦" * 300, channel="email")

    case.refresh_from_db()
    assert case.subject == "📦" * 200


def test_assign_claims_unassigned_case(case, agent):
    case_assign(case=case, actor=Actor.for_agent(agent), assignee=agent)

    case.refresh_from_db()
    assert case.assignee == agent
    assert events(case, "cases.case.assigned") == 1


def test_assign_owned_case_names_owner(case, agent, make_agent):
    other = make_agent("Bea Agent")
    case_assign(case=case, actor=Actor.for_agent(agent), assignee=agent)

    with pytest.raises(StateConflict, match="Alex Agent already has this case"):
        case_assign(case=case, actor=Actor.for_agent(other), assignee=other)

    case.refresh_from_db()
    assert case.assignee == agent
    assert events(case, "cases.case.assigned") == 1


def test_assign_take_over_moves_case(case, agent, make_agent):
    other = make_agent("Bea Agent")
    case_assign(case=case, actor=Actor.for_agent(agent), assignee=agent)

    case_assign(case=case, actor=Actor.for_agent(other), assignee=other, take_over=True)

    case.refresh_from_db()
    assert case.assignee == other
    assert events(case, "cases.case.assigned") == 2


def test_assign_same_owner_records_nothing(case, agent):
    actor = Actor.for_agent(agent)
    case_assign(case=case, actor=actor, assignee=agent)
    version = SupportCase.objects.get(pk=case.pk).version

    case_assign(case=case, actor=actor, assignee=agent)

    assert SupportCase.objects.get(pk=case.pk).version == version
    assert events(case, "cases.case.assigned") == 1


def test_assign_none_returns_to_queue(case, agent):
    actor = Actor.for_agent(agent)
    case_assign(case=case, actor=actor, assignee=agent)

    case_assign(case=case, actor=actor, assignee=None)

    case.refresh_from_db()
    assert case.assignee is None
    assert events(case, "cases.case.unassigned") == 1


def test_assign_solved_case_rejected(case, agent):
    actor = Actor.for_agent(agent)
    case_change_status(case=case, actor=actor, status="solved")

    with pytest.raises(StateConflict, match="reopen it before assigning"):
        case_assign(case=case, actor=actor, assignee=agent)

    assert SupportCase.objects.get(pk=case.pk).assignee is None


@pytest.mark.parametrize(
    "write",
    [
        lambda case, actor: case_assign(case=case, actor=actor, assignee=None),
        lambda case, actor: case_change_status(case=case, actor=actor, status="solved"),
        lambda case, actor: case_change_priority(case=case, actor=actor, priority=4),
        lambda case, actor: case_reply(case=case, actor=actor, body="Hi"),
        lambda case, actor: case_add_note(case=case, actor=actor, body="Hi"),
    ],
)
def test_agent_writes_reject_customers(case, write):
    version = case.version

    with pytest.raises(PermissionDenied):
        write(case, Actor.customer("Ana Tester"))

    assert SupportCase.objects.get(pk=case.pk).version == version
    assert case.messages.count() == 1


def test_status_follows_transitions(case, agent):
    actor = Actor.for_agent(agent)

    case_change_status(case=case, actor=actor, status="pending")
    case_change_status(case=case, actor=actor, status="solved")
    case_change_status(case=case, actor=actor, status="closed")

    case.refresh_from_db()
    assert case.status == SupportCase.Status.CLOSED
    assert case.solved_at is not None
    assert case.closed_at is not None
    assert events(case, "cases.case.status_changed") == 3


def test_status_closed_case_is_final(case, agent):
    actor = Actor.for_agent(agent)
    case_change_status(case=case, actor=actor, status="solved")
    case_change_status(case=case, actor=actor, status="closed")

    for status in ("open", "pending", "on_hold", "solved"):
        with pytest.raises(StateConflict, match="A closed case cannot become"):
            case_change_status(case=case, actor=actor, status=status)

    assert SupportCase.objects.get(pk=case.pk).status == "closed"


def test_status_unknown_value_rejected(case, agent):
    with pytest.raises(DomainError, match="is not a case status"):
        case_change_status(case=case, actor=Actor.for_agent(agent), status="gone")


def test_status_same_value_records_nothing(case, agent):
    case_change_status(case=case, actor=Actor.for_agent(agent), status="open")

    assert events(case, "cases.case.status_changed") == 0


def test_priority_change_and_unknown_value(case, agent):
    actor = Actor.for_agent(agent)

    case_change_priority(case=case, actor=actor, priority=SupportCase.Priority.HIGH)
    with pytest.raises(DomainError, match="is not a priority"):
        case_change_priority(case=case, actor=actor, priority=9)

    case.refresh_from_db()
    assert case.priority == SupportCase.Priority.HIGH
    assert events(case, "cases.case.priority_changed") == 1


def test_reply_sets_first_response_once(case, agent):
    actor = Actor.for_agent(agent)

    case_reply(case=case, actor=actor, body="On it")
    first = SupportCase.objects.get(pk=case.pk).first_response_at
    case_reply(case=case, actor=actor, body="Done")

    assert first is not None
    assert SupportCase.objects.get(pk=case.pk).first_response_at == first
    assert events(case, "cases.reply.sent") == 2


def test_reply_to_stale_version_held(case, agent):
    actor = Actor.for_agent(agent)
    seen = SupportCase.objects.get(pk=case.pk).version
    case_add_customer_message(case=case, actor=Actor.customer("Ana"), body="More")

    with pytest.raises(StaleCase):
        case_reply(case=case, actor=actor, body="Hi", expected_version=seen)

    assert not case.messages.filter(kind=CaseMessage.Kind.REPLY).exists()


@pytest.mark.parametrize("body", ["", "  \n\t ", "x" * 20_001])
def test_message_empty_or_huge_rejected(case, agent, body):
    with pytest.raises(DomainError):
        case_add_note(case=case, actor=Actor.for_agent(agent), body=body)

    assert case.messages.count() == 1


def test_message_text_kept_exactly(case, agent):
    body = "Zoë 🚀 <script>alert(1)</script>\nRemboursement demandé — colis abîmé"

    message = case_add_note(case=case, actor=Actor.for_agent(agent), body=body)

    message.refresh_from_db()
    assert message.body == body


@pytest.mark.parametrize("status", ["pending", "solved"])
def test_customer_message_reopens_case(case, agent, status):
    case_change_status(case=case, actor=Actor.for_agent(agent), status=status)

    case_add_customer_message(case=case, actor=Actor.customer("Ana"), body="Hi")

    case.refresh_from_db()
    assert case.status == SupportCase.Status.OPEN
    assert case.solved_at is None


def test_customer_message_on_closed_case_rejected(case, agent):
    actor = Actor.for_agent(agent)
    case_change_status(case=case, actor=actor, status="solved")
    case_change_status(case=case, actor=actor, status="closed")

    with pytest.raises(StateConflict, match="This case is closed"):
        case_add_customer_message(case=case, actor=Actor.customer("Ana"), body="Hi")

    assert case.messages.count() == 1


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_parallel_claims_leave_one_owner(refunds_team, make_agent):
    case = case_create(
        actor=Actor.system(), subject="Claim me", channel="email", team=refunds_team
    )
    agents = [make_agent("Alex Agent"), make_agent("Bea Agent")]
    barrier = threading.Barrier(len(agents))
    outcomes: list[str] = []

    def claim(agent):
        try:
            barrier.wait(timeout=5)
            case_assign(case=case, actor=Actor.for_agent(agent), assignee=agent)
            outcomes.append("claimed")
        except StateConflict as exc:
            outcomes.append(exc.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(agent,)) for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    case.refresh_from_db()
    refusals = [outcome for outcome in outcomes if outcome != "claimed"]
    assert outcomes.count("claimed") == 1
    assert refusals == [
        f"{case.assignee.display_name} already has this case. Use "
        "'Take over' to move it to you or another agent."
    ]
    assert events(case, "cases.case.assigned") == 1


def test_reply_and_set_status_records_two_events(case, agent):
    actor = Actor.for_agent(agent)

    message = case_reply_and_set_status(
        case=case, actor=actor, body="Sent the label.", status="pending"
    )

    case.refresh_from_db()
    assert message.kind == CaseMessage.Kind.REPLY
    assert case.status == SupportCase.Status.PENDING
    assert events(case, "cases.reply.sent") == 1
    change = AuditEvent.objects.get(case=case, action="cases.case.status_changed")
    assert change.actor_user == agent.user
    assert change.reason == "Set with the reply."
    assert change.changes == {"status": ["open", "pending"]}


def test_reply_and_set_status_is_all_or_nothing(case, agent):
    actor = Actor.for_agent(agent)
    case_change_status(case=case, actor=actor, status="solved")
    case_change_status(case=case, actor=actor, status="closed")

    with pytest.raises(StateConflict):
        case_reply_and_set_status(
            case=case, actor=actor, body="Hello", status="pending"
        )

    case.refresh_from_db()
    assert case.status == SupportCase.Status.CLOSED
    assert not case.messages.filter(kind=CaseMessage.Kind.REPLY).exists()
