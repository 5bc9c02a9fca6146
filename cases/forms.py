"""Forms of the agent pages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from django import forms

from agents.models import Agent, Team
from cases.models import SupportCase, Tag
from cases.queue import SORTS, QueueFilters, team_of_view
from cases.services import MAX_MESSAGE_LENGTH

STATUS_FILTER_CHOICES = [
    ("active", "Open, pending and on hold"),
    *SupportCase.Status.choices,
    ("all", "All statuses"),
]
ASSIGNEE_CHOICES = [("any", "Anyone"), ("me", "Me"), ("unassigned", "Unassigned")]
SORT_CHOICES = [
    ("due", "Most urgent first"),
    ("priority", "Priority, then oldest"),
    ("oldest", "Oldest first"),
    ("newest", "Newest first"),
    ("updated", "Recently updated"),
    ("relevance", "Best search match"),
]
FIXED_VIEWS = ("mine", "unassigned", "refunds", "breaching", "all")


class QueueFilterForm(forms.Form):
    """Filters of the queue, read from the query string.

    ``teams`` are the teams the agent may filter on. The form reads no
    database, so the queue can parse every saved view for its count.
    """

    view = forms.CharField(required=False, widget=forms.HiddenInput)
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        help_text="Words from the subject, messages, customer or order number.",
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    status = forms.ChoiceField(choices=STATUS_FILTER_CHOICES, required=False)
    team = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    assignee = forms.ChoiceField(
        label="Assigned to", choices=ASSIGNEE_CHOICES, required=False
    )
    priority = forms.TypedChoiceField(
        choices=[("", "Any priority"), *SupportCase.Priority.choices],
        coerce=int,
        required=False,
        empty_value=None,
    )
    tag = forms.CharField(required=False, max_length=50)
    sort = forms.ChoiceField(label="Sort by", choices=SORT_CHOICES, required=False)

    def __init__(self, *args, teams: Iterable[Team] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.teams = list(teams)
        cast(forms.TypedChoiceField, self.fields["team"]).choices = [
            ("", "All teams"),
            *[(team.pk, team.name) for team in self.teams],
        ]

    def filters(self) -> QueueFilters:
        """Return the valid filters; an invalid value falls back to its default.

        ``cleaned_data`` keeps the fields that passed validation, so one bad
        value in the query string does not drop the others.
        """
        self.is_valid()
        data = self.cleaned_data
        view = data.get("view") or "all"
        team_ids = {team.pk for team in self.teams}
        if view not in FIXED_VIEWS and team_of_view(view) not in team_ids:
            view = "all"
        query = (data.get("q") or "").strip()
        sort = data.get("sort") or ("relevance" if query else "due")
        return QueueFilters(
            view=view,
            status=data.get("status") or "active",
            team=data.get("team"),
            assignee=data.get("assignee") or "any",
            priority=data.get("priority"),
            tag=(data.get("tag") or "").strip(),
            q=query,
            sort=sort if sort in SORTS else "due",
        )


def filters_parser(teams: list[Team]):
    """Return a function that reads QueueFilters from a query string."""

    def parse(data) -> QueueFilters:
        return QueueFilterForm(data, teams=teams).filters()

    return parse


class MessageForm(forms.Form):
    body = forms.CharField(
        max_length=MAX_MESSAGE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "required": "Write a message before sending.",
            "max_length": "Shorten the message to at most %(limit_value)s characters "
            "(it has %(show_value)s).",
        },
    )
    # The case version the agent saw; a reply to an older version is held.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ReplyForm(MessageForm):
    """A reply, and the status that the "Send and ..." buttons set with it."""

    status = forms.ChoiceField(
        choices=[("", "Keep the status"), *SupportCase.Status.choices],
        required=False,
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=SupportCase.Status.choices)
    reason = forms.CharField(label="Reason", required=False, max_length=500)


class PriorityForm(forms.Form):
    priority = forms.TypedChoiceField(choices=SupportCase.Priority.choices, coerce=int)


class AssignForm(forms.Form):
    """Assign to an agent, or with an empty agent return the case to the queue."""

    agent = forms.ModelChoiceField(
        queryset=Agent.objects.all(),
        required=False,
        empty_label="Nobody (return to queue)",
        error_messages={"invalid_choice": "Choose an agent from the list."},
    )
    take_over = forms.BooleanField(
        label="Take over from the current owner", required=False
    )


class SavedViewForm(forms.Form):
    name = forms.CharField(label="View name", max_length=60)
    query = forms.CharField(widget=forms.HiddenInput, required=False, max_length=1000)


class CaseIdsField(forms.Field):
    """The ids of the cases ticked in the queue, from repeated ``case`` values."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        if not value:
            return []
        try:
            return sorted({int(item) for item in value})
        except (TypeError, ValueError):
            raise forms.ValidationError("The selected cases are invalid.") from None


class BulkActionForm(forms.Form):
    """One action applied to the cases ticked in the queue."""

    case = CaseIdsField(
        required=True, error_messages={"required": "Select at least one case."}
    )
    action = forms.ChoiceField(
        label="Action",
        choices=[
            ("assign", "Assign to"),
            ("status", "Change status to"),
            ("tag", "Add tag"),
        ],
    )
    assignee = forms.ChoiceField(label="Assignee", required=False)
    take_over = forms.BooleanField(
        label="Take over cases that someone else has", required=False
    )
    status = forms.ChoiceField(
        label="Status",
        choices=[("", "Choose a status"), *SupportCase.Status.choices],
        required=False,
    )
    tag = forms.CharField(label="Tag", max_length=50, required=False)

    def __init__(self, *args, agents=(), **kwargs) -> None:
        # The filters above it share field names, so the ids get a prefix.
        kwargs.setdefault("auto_id", "id_bulk_%s")
        super().__init__(*args, **kwargs)
        self.agents = {str(agent.pk): agent for agent in agents}
        cast(forms.ChoiceField, self.fields["assignee"]).choices = [
            ("me", "Me"),
            ("nobody", "Nobody (return to the queue)"),
            *[(pk, agent.display_name) for pk, agent in self.agents.items()],
        ]

    def assignee_for(self, me: Agent) -> Agent | None:
        """Return the agent chosen as assignee; ``me`` for "Me", None for nobody."""
        choice = self.cleaned_data.get("assignee") or "me"
        if choice == "me":
            return me
        return self.agents.get(choice)


class TagForm(forms.Form):
    tag = forms.CharField(label="Add a tag", max_length=50)


class TagRemoveForm(forms.Form):
    tag = forms.ModelChoiceField(queryset=Tag.objects.all())


class MergeForm(forms.Form):
    target = forms.CharField(
        label="Merge this case into",
        max_length=20,
        help_text="Reference of the case to keep, such as C-000123. This case's "
        "messages move there and this case closes.",
    )


class AgentStatusForm(forms.Form):
    status = forms.ChoiceField(label="My status", choices=Agent.Status.choices)
    return_cases = forms.BooleanField(
        label="Return my cases to the queue", required=False
    )
