"""Escalation of SLA breaches: priority raised, supervisors notified by email.

``manage.py escalate_sla`` runs sla_escalate() from cron or a timer, once
a minute. Each target of a case (first response, resolution) escalates
once; a run handles at most ESCALATION_BATCH cases and the next run
continues.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from agents.models import Agent
from cases import services
from cases.audit import Actor, record_event
from cases.models import SupportCase

logger = logging.getLogger(__name__)

ESCALATION_BATCH = 200
# Cases listed by name in one notification email; the rest are counted.
EMAIL_LIST_LIMIT = 50

BREACHED = Q(sla_due_at__isnull=False) & (
    Q(first_response_at__isnull=True, first_response_breached_at__isnull=True)
    | Q(first_response_at__isnull=False, resolution_breached_at__isnull=True)
)


@dataclass(frozen=True)
class Breach:
    reference: str
    subject: str
    target: str  # "first response" or "resolution"
    due_at: datetime


def sla_escalate(*, now: datetime | None = None) -> list[Breach]:
    """Escalate the cases whose current SLA target passed; return the breaches.

    Each breached case goes up one priority (urgent stays urgent), gets an
    audit entry, and appears in one email to the supervisors after the
    commit. Due times keep the targets of the old priority.
    """
    now = now or timezone.now()
    actor = Actor.system("SLA escalation")
    breaches: list[Breach] = []
    with transaction.atomic():
        cases = (
            SupportCase.objects.filter(BREACHED, sla_due_at__lte=now)
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("sla_due_at", "pk")[:ESCALATION_BATCH]
        )
        for case in cases:
            case._queue_before = (case.team_id, case.assignee_id)
            breaches.append(_escalate(case, actor, now))
        if breaches:
            transaction.on_commit(lambda: _notify_supervisors(breaches))
    if breaches:
        logger.warning("Escalated %s SLA breaches", len(breaches))
    return breaches


def _escalate(case: SupportCase, actor: Actor, now: datetime) -> Breach:
    if case.first_response_at is None:
        target, due_at = "first response", case.first_response_due_at
        case.first_response_breached_at = now
        fields = ["first_response_breached_at"]
    else:
        target, due_at = "resolution", case.resolution_due_at
        case.resolution_breached_at = now
        fields = ["resolution_breached_at"]
    if due_at is None:
        # The SLA sets both targets together with sla_due_at, which BREACHED
        # requires, so a missing one is inconsistent data.
        raise ValueError(f"{case.reference} is due but has no {target} target.")
    old_priority = case.priority
    case.priority = min(old_priority + 1, SupportCase.Priority.URGENT)
    fields.append("priority")
    services._touch(case, fields)
    record_event(
        action="cases.sla.breached",
        actor=actor,
        target=case,
        case=case,
        reason=f"The {target} target passed at {due_at:%Y-%m-%d %H:%M} UTC.",
        changes={"target": target, "priority": [old_priority, case.priority]},
    )
    return Breach(case.reference, case.subject, target, due_at)


def _notify_supervisors(breaches: list[Breach]) -> None:
    recipients = list(
        Agent.objects.filter(is_supervisor=True, user__is_active=True)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    if not recipients:
        logger.warning(
            "No supervisor has an email address; %s SLA breaches not notified",
            len(breaches),
        )
        return
    lines = [
        f"{breach.reference} {breach.subject}: {breach.target} was due "
        f"{breach.due_at:%Y-%m-%d %H:%M} UTC. "
        f"{settings.SITE_URL}{reverse('cases:detail', args=[breach.reference])}"
        for breach in breaches[:EMAIL_LIST_LIMIT]
    ]
    if len(breaches) > EMAIL_LIST_LIMIT:
        lines.append(f"… and {len(breaches) - EMAIL_LIST_LIMIT} more.")
    count = len(breaches)
    send_mail(
        subject=f"{count} case{'s' if count != 1 else ''} breached the SLA",
        message="Their priority was raised by one.\n\n" + "\n".join(lines),
        from_email=None,
        recipient_list=recipients,
    )
