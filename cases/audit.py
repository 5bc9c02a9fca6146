"""Who acts, and the audit trail entry that every change of state writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from cases.models import AuditEvent

if TYPE_CHECKING:
    from agents.models import Agent
    from cases.models import SupportCase


@dataclass(frozen=True)
class Actor:
    """The person or process behind a change: an agent, a customer or the system."""

    kind: str
    name: str
    user: Any = None  # a User for agents and integrations, else None

    @classmethod
    def for_user(cls, user: Any) -> Actor:
        agent = getattr(user, "agent", None)
        name = agent.display_name if agent else user.get_username()
        return cls(kind=AuditEvent.ActorKind.AGENT, name=name, user=user)

    @classmethod
    def for_agent(cls, agent: Agent) -> Actor:
        return cls(
            kind=AuditEvent.ActorKind.AGENT, name=agent.display_name, user=agent.user
        )

    @classmethod
    def customer(cls, name: str = "") -> Actor:
        return cls(kind=AuditEvent.ActorKind.CUSTOMER, name=name or "Customer")

    @classmethod
    def system(cls, name: str = "Supportdesk") -> Actor:
        return cls(kind=AuditEvent.ActorKind.SYSTEM, name=name)

    @classmethod
    def integration(cls, user: Any) -> Actor:
        return cls(
            kind=AuditEvent.ActorKind.INTEGRATION, name=user.get_username(), user=user
        )

    @property
    def agent(self) -> Agent | None:
        return getattr(self.user, "agent", None) if self.user is not None else None


def record_event(
    *,
    action: str,
    actor: Actor,
    target: models.Model,
    case: SupportCase | None = None,
    reason: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Write one audit entry for a change that the caller has just made."""
    return AuditEvent.objects.create(
        action=action,
        actor_kind=actor.kind,
        actor_user=actor.user,
        actor_name=actor.name[:200],
        case=case,
        target_type=ContentType.objects.get_for_model(target),
        target_id=str(target.pk),
        reason=reason,
        changes=changes or {},
    )


def events_for(target: models.Model) -> models.QuerySet[AuditEvent]:
    """Return the audit entries about ``target``, oldest first."""
    return AuditEvent.objects.filter(
        target_type=ContentType.objects.get_for_model(target), target_id=str(target.pk)
    )


# What the case page's history shows for each action; other actions show
# their dotted name.
EVENT_LABELS = {
    "cases.case.created": "opened the case",
    "cases.case.status_changed": "changed the status",
    "cases.case.priority_changed": "changed the priority",
    "cases.case.assigned": "assigned the case",
    "cases.case.unassigned": "returned the case to the queue",
    "cases.case.merged": "merged the case",
    "cases.case.merge_undone": "undid the merge",
    "cases.reply.sent": "replied to the customer",
    "cases.note.added": "added a note",
    "cases.email.received": "received an email",
    "cases.email.auto_reply_recorded": "recorded an automatic reply",
    "cases.email.bounce_recorded": "recorded a bounced email",
    "cases.macro.applied": "applied a macro",
    "cases.sla.breached": "recorded an SLA breach",
    "cases.survey.sent": "sent the satisfaction survey",
    "cases.survey.answered": "answered the satisfaction survey",
    "cases.survey.changed": "changed the survey answer",
    "cases.tag.added": "added a tag",
    "cases.tag.removed": "removed a tag",
    "refunds.refund.requested": "requested a refund",
    "refunds.refund.amount_changed": "changed the refund amount",
    "refunds.refund.approved": "approved the refund",
    "refunds.refund.rejected": "rejected the refund",
    "refunds.refund.cancelled": "cancelled the refund",
    "refunds.refund.escalated": "sent the refund to a supervisor",
    "refunds.refund.refunded": "marked the refund as paid back",
    "refunds.refund.shop_failed": "recorded that the shop could not pay the refund",
    "refunds.outbox.retried": "retried a delivery",
    "refunds.reconciliation.resolved": "resolved a reconciliation flag",
}


def describe_event(event: AuditEvent) -> str:
    """Return what happened in words, with the old and new values it changed.

    For example "changed the status: open → solved". Values come from the
    event's ``changes``, where a change is stored as ``[old, new]``.
    """
    label = EVENT_LABELS.get(event.action, event.action)
    changes = event.changes or {}
    pairs = {
        field: [_value_text(field, item) for item in value]
        for field, value in changes.items()
        if isinstance(value, list) and len(value) == 2
    }
    if len(pairs) == 1:
        (old, new), *_ = pairs.values()
        details = [f"{old} → {new}"]
    else:
        details = [f"{field} {old} → {new}" for field, (old, new) in pairs.items()]
    if "amount" in changes and not isinstance(changes["amount"], list):
        details.append(str(changes["amount"]))
    return f"{label}: {', '.join(details)}" if details else label


def _value_text(field: str, value: Any) -> str:
    from cases.models import SupportCase

    if value is None or value == "":
        return "none"
    labels_by_field: dict[str, dict[Any, str]] = {
        "status": dict(SupportCase.Status.choices),
        "priority": dict(SupportCase.Priority.choices),
    }
    labels = labels_by_field.get(field, {})
    return str(labels.get(value, value)).lower() if labels else str(value)
