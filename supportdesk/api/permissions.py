"""Permissions by role, and the Actor that API calls are recorded as."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from agents.roles import Role, role_of
from cases.audit import Actor


class HasRole(BasePermission):
    """Allow agents, supervisors and integrations; not other users."""

    message = (
        "This account has no agent profile and is not an integration, so it "
        "cannot use the API."
    )

    def has_permission(self, request, view) -> bool:
        return role_of(request.user) is not None


class IsAgent(BasePermission):
    """Allow agents and supervisors only."""

    message = "Only agents and supervisors can do this; integrations cannot."

    def has_permission(self, request, view) -> bool:
        return role_of(request.user) in (Role.AGENT, Role.SUPERVISOR)


def api_actor(user) -> Actor:
    """Return the Actor that the audit trail records for ``user``."""
    if role_of(user) == Role.INTEGRATION:
        return Actor.integration(user)
    return Actor.for_user(user)
