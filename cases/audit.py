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
