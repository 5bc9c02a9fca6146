"""Writes to agents and teams."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from agents.models import Agent, Membership, Team
from agents.roles import INTEGRATIONS_GROUP

SUPERVISORS_GROUP = "Supervisors"
# Apps whose models supervisors manage in the admin.
SUPERVISED_APPS = ("agents", "cases", "refunds", "django_tasks_db")


def supervisors_group_sync() -> Group:
    """Create or update the group that gives supervisors their admin permissions."""
    group, _ = Group.objects.get_or_create(name=SUPERVISORS_GROUP)
    permissions = Permission.objects.filter(content_type__app_label__in=SUPERVISED_APPS)
    user_permissions = Permission.objects.filter(
        content_type__app_label="auth", content_type__model="user"
    )
    group.permissions.set([*permissions, *user_permissions])
    return group


def agent_sync_supervisor_access(agent: Agent) -> None:
    """Give a supervisor the admin site and the supervisors' permissions.

    Taking the flag away removes the group; staff status stays, since a
    superuser or another group may also need it.
    """
    user = agent.user
    group = (
        Group.objects.filter(name=SUPERVISORS_GROUP).first() or supervisors_group_sync()
    )
    if agent.is_supervisor:
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        user.groups.add(group)
    else:
        user.groups.remove(group)


def agent_create(
    *,
    username: str,
    password: str,
    display_name: str,
    email: str = "",
    is_supervisor: bool = False,
    approval_limit: Decimal = Decimal("100"),
    teams: Iterable[Team] = (),
) -> Agent:
    """Create a user with an agent profile in ``teams``."""
    with transaction.atomic():
        user = get_user_model().objects.create_user(
            username=username, email=email, password=password
        )
        agent = Agent.objects.create(
            user=user,
            display_name=display_name,
            is_supervisor=is_supervisor,
            approval_limit=approval_limit,
            status=Agent.Status.AVAILABLE,
        )
        for team in teams:
            Membership.objects.create(team=team, agent=agent)
        agent_sync_supervisor_access(agent)
    return agent


def integration_create(*, username: str, password: str) -> Any:
    """Create a user that the API treats as an integration (see agents.roles)."""
    with transaction.atomic():
        user = get_user_model().objects.create_user(
            username=username, password=password
        )
        group, _ = Group.objects.get_or_create(name=INTEGRATIONS_GROUP)
        user.groups.add(group)
    return user
