"""An agent's saved queue views: named query strings of the queue page."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.http import QueryDict

from agents.models import Agent
from cases.models import SavedView
from cases.queue import MAX_SAVED_VIEWS
from supportdesk.errors import DomainError, NotFound

# Parameters that belong to one visit of the page, not to a view.
TRANSIENT_PARAMETERS = ("page", "csrfmiddlewaretoken")


def saved_view_create(*, agent: Agent, name: str, query: str) -> SavedView:
    """Save the queue filters in ``query`` as the agent's view called ``name``."""
    name = " ".join(name.split())
    if not name:
        raise DomainError("Give the view a name.", field="name")
    params = QueryDict(query, mutable=True)
    for parameter in TRANSIENT_PARAMETERS:
        params.pop(parameter, None)
    with transaction.atomic():
        existing = SavedView.objects.select_for_update().filter(agent=agent)
        if len(existing) >= MAX_SAVED_VIEWS:
            raise DomainError(
                f"You have {MAX_SAVED_VIEWS} saved views, the maximum. Delete one "
                "first.",
                field="name",
            )
        try:
            with transaction.atomic():
                return SavedView.objects.create(
                    agent=agent, name=name[:60], query=params.urlencode()[:1000]
                )
        except IntegrityError:
            raise DomainError(
                f"You already have a view called {name!r}. Choose another name.",
                field="name",
            ) from None


def saved_view_delete(*, agent: Agent, view_id: int) -> None:
    """Delete one of the agent's saved views; another agent's is not found."""
    deleted, _ = SavedView.objects.filter(agent=agent, pk=view_id).delete()
    if not deleted:
        raise NotFound("That saved view does not exist.")
