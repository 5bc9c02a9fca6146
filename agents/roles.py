"""The roles a user can act in: agent, supervisor or integration.

An agent or supervisor is a user with an agent profile; the profile's
``is_supervisor`` flag makes the supervisor. An integration is a user without
an agent profile who belongs to the Integrations group: a shop system that
files refunds and confirms payouts, never a person working cases. A user
with an agent profile is an agent even when also in that group.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

INTEGRATIONS_GROUP = "Integrations"


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    INTEGRATION = "integration"


def role_of(user: Any) -> Role | None:
    """Return the role of an active user, or None for anyone without one."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    agent = getattr(user, "agent", None)
    if agent is not None:
        return Role.SUPERVISOR if agent.is_supervisor else Role.AGENT
    if user.groups.filter(name=INTEGRATIONS_GROUP).exists():
        return Role.INTEGRATION
    return None
