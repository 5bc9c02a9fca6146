"""Forms of the agent pages."""

from __future__ import annotations

from django import forms

from agents.models import Agent, Team
from cases.models import SupportCase
from cases.selectors import SORTS, QueueFilters
from cases.services import MAX_MESSAGE_LENGTH

STATUS_FILTER_CHOICES = [
    ("active", "Open, pending and on hold"),
    *SupportCase.Status.choices,
    ("all", "All statuses"),
]
ASSIGNEE_CHOICES = [("any", "Anyone"), ("me", "Me"), ("unassigned", "Unassigned")]
SORT_CHOICES = [
    ("priority", "Priority, then oldest"),
    ("oldest", "Oldest first"),
    ("newest", "Newest first"),
    ("updated", "Recently updated"),
]


class QueueFilterForm(forms.Form):
    """Filters of the queue, read from the query string."""

    status = forms.ChoiceField(choices=STATUS_FILTER_CHOICES, required=False)
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(), required=False, empty_label="All teams"
    )
    assignee = forms.ChoiceField(
        label="Assigned to", choices=ASSIGNEE_CHOICES, required=False
    )
    priority = forms.TypedChoiceField(
        choices=[("", "Any priority"), *SupportCase.Priority.choices],
        coerce=int,
        required=False,
        empty_value=None,
    )
    sort = forms.ChoiceField(label="Sort by", choices=SORT_CHOICES, required=False)

    def filters(self) -> QueueFilters:
        """Return the valid filters; an invalid value falls back to its default.

        ``cleaned_data`` keeps the fields that passed validation, so one bad
        value in the query string does not drop the others.
        """
        self.is_valid()
        data = self.cleaned_data
        team = data.get("team")
        sort = data.get("sort") or "priority"
        return QueueFilters(
            status=data.get("status") or "active",
            team=team.pk if team else None,
            assignee=data.get("assignee") or "any",
            priority=data.get("priority"),
            sort=sort if sort in SORTS else "priority",
        )


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
