"""Every write to support cases: creation, messages, status, priority, assignment.

Each function is one transition. It checks the current state and fails
naming it, changes only its own fields, raises the case's version, and
writes an audit entry with the actor and the reason.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from agents.models import Agent, Team
from cases import assignment, counts, search
from cases.audit import Actor, record_event
from cases.mail.outbound import reply_email_queue
from cases.models import CaseMessage, Customer, Order, SupportCase
from cases.sla import sla_update
from cases.surveys.services import survey_create_for_solve
from supportdesk.errors import DomainError, PermissionDenied, StateConflict
from supportdesk.submissions import create_once

logger = logging.getLogger(__name__)

MAX_MESSAGE_LENGTH = 20_000


class StaleCase(StateConflict):
    """The case changed after the agent's page was loaded."""

    code = "stale"


# Case fields that the queue's filters and views read, so that a change to
# one of them can change a count (tags and refunds expire counts where they
# change).
COUNTED_FIELDS = frozenset({"status", "team", "assignee", "priority", "sla_due_at"})


def _touch(
    case: SupportCase, fields: list[str], *, message_added: bool = False
) -> None:
    """Save ``fields``, raise the version and stamp the update time.

    After the commit, the queue counts of the case's teams and assignees
    expire, and a change of status or assignee runs the teams' automatic
    assignment, since it may free capacity or return a case to the queue.
    With ``message_added`` and no change to COUNTED_FIELDS, only the counts
    with search words expire, since only the case's text changed.
    """
    case.updated_at = timezone.now()
    SupportCase.objects.filter(pk=case.pk).update(
        version=F("version") + 1,
        updated_at=case.updated_at,
        **{f: getattr(case, f) for f in fields},
    )
    case.refresh_from_db(fields=["version"])
    team_before, assignee_before = getattr(
        case, "_queue_before", (case.team_id, case.assignee_id)
    )
    if message_added and COUNTED_FIELDS.isdisjoint(fields):
        counts.invalidate_text()
    else:
        counts.invalidate(
            team_ids=[team_before, case.team_id],
            agent_ids=[assignee_before, case.assignee_id],
        )
    if {"status", "assignee"} & set(fields):
        assignment.schedule_dispatch([team_before, case.team_id])


def _lock(case: SupportCase) -> SupportCase:
    locked = SupportCase.objects.select_for_update().get(pk=case.pk)
    # Where the case was in the queues before this change, for _touch().
    locked._queue_before = (locked.team_id, locked.assignee_id)
    return locked


def _check_version(case: SupportCase, expected_version: int | None) -> None:
    if expected_version is not None and case.version != expected_version:
        raise StaleCase(
            "This case changed while you were working on it. Review the latest "
            "messages and changes, then send again.",
        )


def _clean_body(body: str, field: str = "body") -> str:
    text = body.strip()
    if not text:
        raise DomainError("Write a message before sending.", field=field)
    if len(text) > MAX_MESSAGE_LENGTH:
        raise DomainError(
            f"The message is {len(text):,} characters long; the maximum is "
            f"{MAX_MESSAGE_LENGTH:,}. Shorten it or split it into two messages.",
            field=field,
        )
    return text


def case_create(
    *,
    actor: Actor,
    subject: str,
    channel: str,
    body: str = "",
    customer: Customer | None = None,
    order: Order | None = None,
    team: Team | None = None,
    priority: int = SupportCase.Priority.NORMAL,
    author_name: str = "",
    submission_key: str | None = None,
) -> SupportCase:
    """Open a case, with the customer's first message when ``body`` is given.

    ``submission_key`` is stored for create_once, which checks it.
    """
    with transaction.atomic():
        now = timezone.now()
        case = SupportCase(
            subject=subject.strip()[:200] or "(no subject)",
            channel=channel,
            customer=customer,
            order=order,
            team=team,
            priority=priority,
            created_at=now,
            updated_at=now,
            submission_key=submission_key or None,
        )
        sla_update(case, now=now, recompute=True)
        case.save(force_insert=True)
        if body:
            CaseMessage.objects.create(
                case=case,
                kind=CaseMessage.Kind.CUSTOMER,
                author_name=(author_name or (customer.name if customer else ""))[:200],
                body=_clean_body(body),
                created_at=now,
            )
        record_event(
            action="cases.case.created",
            actor=actor,
            target=case,
            case=case,
            changes={"channel": channel, "team": team.name if team else None},
        )
        search.index_case(case.pk)
        counts.invalidate(team_ids=[case.team_id])
        assignment.schedule_dispatch([case.team_id])
    logger.info("Case %s opened", case.reference, extra={"case": case.reference})
    return case


def case_reply(
    *, case: SupportCase, actor: Actor, body: str, expected_version: int | None = None
) -> CaseMessage:
    """Add an agent's reply, visible to the customer.

    With ``expected_version``, the reply is held (StaleCase) when the case
    changed after the agent loaded it, so nobody answers a thread they have
    not read.
    """
    return _add_agent_message(
        case=case,
        actor=actor,
        body=body,
        kind=CaseMessage.Kind.REPLY,
        expected_version=expected_version,
    )


REPLY_STATUS_REASON = "Set with the reply."


def case_reply_and_set_status(
    *,
    case: SupportCase,
    actor: Actor,
    body: str,
    status: str,
    expected_version: int | None = None,
) -> CaseMessage:
    """Send a reply and move the case to ``status``, both or neither.

    The audit log gets the reply and the status change as two events. A
    status the case cannot move to raises StateConflict, and the reply is
    then not sent either.
    """
    with transaction.atomic():
        message = case_reply(
            case=case, actor=actor, body=body, expected_version=expected_version
        )
        case_change_status(
            case=case, actor=actor, status=status, reason=REPLY_STATUS_REASON
        )
    return message


def case_add_note(*, case: SupportCase, actor: Actor, body: str) -> CaseMessage:
    """Add an internal note, visible to agents only."""
    return _add_agent_message(
        case=case, actor=actor, body=body, kind=CaseMessage.Kind.NOTE
    )


def _add_agent_message(
    *,
    case: SupportCase,
    actor: Actor,
    body: str,
    kind: str,
    expected_version: int | None = None,
) -> CaseMessage:
    agent = _require_agent(actor)
    text = _clean_body(body)
    with transaction.atomic():
        case = _lock(case)
        _check_version(case, expected_version)
        if case.status == SupportCase.Status.CLOSED:
            raise StateConflict(
                "This case is closed. Open a new case to write to the customer."
            )
        now = timezone.now()
        message = CaseMessage.objects.create(
            case=case,
            kind=kind,
            author_agent=agent,
            author_name=agent.display_name,
            body=text,
            created_at=now,
        )
        fields = []
        if kind == CaseMessage.Kind.REPLY and case.first_response_at is None:
            case.first_response_at = now
            fields += ["first_response_at", *sla_update(case, now=now)]
        _touch(case, fields, message_added=True)
        search.index_case(case.pk)
        record_event(
            action="cases.reply.sent"
            if kind == CaseMessage.Kind.REPLY
            else "cases.note.added",
            actor=actor,
            target=message,
            case=case,
        )
        if kind == CaseMessage.Kind.REPLY:
            reply_email_queue(message=message)
    return message


def case_add_customer_message(
    *, case: SupportCase, actor: Actor, body: str, submission_key: str | None = None
) -> CaseMessage:
    """Add a message from the customer; a pending or solved case opens again.

    A ``submission_key`` already used on this case returns the message it
    added, so a double click adds one message.
    """
    text = _clean_body(body)

    def add() -> CaseMessage:
        locked = _lock(case)
        if locked.status == SupportCase.Status.CLOSED:
            raise StateConflict("This case is closed.")
        message = CaseMessage.objects.create(
            case=locked,
            kind=CaseMessage.Kind.CUSTOMER,
            author_name=actor.name[:200],
            body=text,
            submission_key=submission_key or None,
        )
        _reopen_for_customer(locked, actor)
        return message

    with transaction.atomic():
        message, _ = create_once(
            CaseMessage,
            submission_key,
            add,
            in_scope=lambda existing: existing.case_id == case.pk,
            out_of_scope="This form was already sent for another request. Reload "
            "the page and send it again.",
            lock=lambda: _lock(case),
        )
    return message


def _reopen_for_customer(case: SupportCase, actor: Actor) -> None:
    """Open a pending or solved case again after the customer wrote."""
    fields = []
    if case.status in (SupportCase.Status.PENDING, SupportCase.Status.SOLVED):
        old = case.status
        case.status = SupportCase.Status.OPEN
        case.solved_at = None
        fields += ["status", "solved_at", *sla_update(case, now=timezone.now())]
        record_event(
            action="cases.case.status_changed",
            actor=actor,
            target=case,
            case=case,
            reason="The customer wrote again.",
            changes={"status": [old, case.status]},
        )
    _touch(case, fields, message_added=True)
    search.index_case(case.pk)


def case_change_status(
    *, case: SupportCase, actor: Actor, status: str, reason: str = ""
) -> SupportCase:
    """Move the case to ``status`` if the transition is allowed."""
    _require_agent(actor)
    if status not in SupportCase.Status.values:
        raise DomainError(f"{status!r} is not a case status.", field="status")
    with transaction.atomic():
        case = _lock(case)
        if case.status == status:
            return case
        if not case.can_move_to(status):
            raise StateConflict(
                f"A {case.get_status_display().lower()} case cannot become "
                f"{SupportCase.Status(status).label.lower()}."
            )
        old = case.status
        case.status = status
        now = timezone.now()
        fields = ["status"]
        if status == SupportCase.Status.SOLVED:
            case.solved_at = now
            fields.append("solved_at")
        elif status == SupportCase.Status.CLOSED:
            case.closed_at = now
            fields.append("closed_at")
        elif old == SupportCase.Status.SOLVED:
            case.solved_at = None
            fields.append("solved_at")
        fields += sla_update(case, now=now)
        _touch(case, fields)
        record_event(
            action="cases.case.status_changed",
            actor=actor,
            target=case,
            case=case,
            reason=reason,
            changes={"status": [old, status]},
        )
        if status == SupportCase.Status.SOLVED:
            survey_create_for_solve(case=case, solved_by=actor.agent)
    return case


def case_change_priority(
    *, case: SupportCase, actor: Actor, priority: int, reason: str = ""
) -> SupportCase:
    _require_agent(actor)
    if priority not in SupportCase.Priority.values:
        raise DomainError(f"{priority!r} is not a priority.", field="priority")
    with transaction.atomic():
        case = _lock(case)
        if case.priority == priority:
            return case
        old = case.priority
        case.priority = priority
        fields = ["priority", *sla_update(case, now=timezone.now(), recompute=True)]
        _touch(case, fields)
        record_event(
            action="cases.case.priority_changed",
            actor=actor,
            target=case,
            case=case,
            reason=reason,
            changes={"priority": [old, priority]},
        )
    return case


def case_assign(
    *,
    case: SupportCase,
    actor: Actor,
    assignee: Agent | None,
    take_over: bool = False,
    reason: str = "",
) -> SupportCase:
    """Assign the case to ``assignee``, or return it to the queue with None.

    A case that another agent owns changes hands only with ``take_over``, so
    two agents who claim one case at once cannot silently swap it: the second
    gets a StateConflict naming the owner.
    """
    _require_agent(actor)
    with transaction.atomic():
        case = _lock(case)
        current = case.assignee
        if current == assignee:
            return case
        if current is not None and assignee is not None and not take_over:
            raise StateConflict(
                f"{current.display_name} already has this case. Use 'Take over' to "
                "move it to you or another agent."
            )
        if not case.is_active and assignee is not None:
            raise StateConflict(
                f"This case is {case.get_status_display().lower()}; reopen it before "
                "assigning it."
            )
        case.assignee = assignee
        _touch(case, ["assignee"])
        record_event(
            action="cases.case.assigned" if assignee else "cases.case.unassigned",
            actor=actor,
            target=case,
            case=case,
            reason=reason,
            changes={
                "assignee": [
                    current.display_name if current else None,
                    assignee.display_name if assignee else None,
                ]
            },
        )
    return case


def _require_agent(actor: Actor) -> Agent:
    agent = actor.agent
    if agent is None:
        raise PermissionDenied("Only agents can do this.")
    return agent
