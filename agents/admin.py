from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Count
from django.forms import BaseInlineFormSet
from django.utils.translation import ngettext

from agents.models import Agent, BusinessHours, Holiday, Membership, Team

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class LabelledDeleteFormSet(BaseInlineFormSet):
    """An inline formset whose "Delete" checkboxes have an accessible name.

    The admin's tabular inline shows them in a column under a "Delete?"
    header only, with no <label>, so screen readers read them unnamed.
    """

    def add_fields(self, form, index) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields and form.instance.pk is not None:
            name = f"Delete {form.instance._meta.verbose_name} {form.instance}"
            form.fields["DELETE"].widget.attrs["aria-label"] = name


class MembershipInline(admin.TabularInline):
    model = Membership
    formset = LabelledDeleteFormSet
    extra = 0
    autocomplete_fields = ["agent", "team"]
    readonly_fields = ["last_assigned_at"]


class BusinessHoursInline(admin.TabularInline):
    model = BusinessHours
    formset = LabelledDeleteFormSet
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    formset = LabelledDeleteFormSet
    extra = 0


class _MemberCount(TypedDict):
    member_count: int


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "handles_refunds",
        "assignment_mode",
        "member_count",
    ]
    list_filter = ["handles_refunds", "assignment_mode"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline, BusinessHoursInline, HolidayInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    @admin.display(description="Members", ordering="member_count")
    def member_count(self, team: WithAnnotations[Team, _MemberCount]) -> int:
        return team.member_count


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["display_name", "user", "is_supervisor", "approval_limit", "status"]
    list_filter = ["is_supervisor", "status", "teams"]
    search_fields = ["display_name", "user__username", "user__email"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
    # Status changes go through the actions below, which write the audit
    # trail and run the teams' automatic assignment.
    readonly_fields = ["status", "status_changed_at"]
    inlines = [MembershipInline]
    actions = ["mark_available", "mark_away", "mark_offline_and_return_cases"]

    @admin.action(description="Mark selected agents available")
    def mark_available(self, request, queryset) -> None:
        self._change_status(request, queryset, Agent.Status.AVAILABLE, False)

    @admin.action(description="Mark selected agents away")
    def mark_away(self, request, queryset) -> None:
        self._change_status(request, queryset, Agent.Status.AWAY, False)

    @admin.action(description="Set selected agents offline and return their cases")
    def mark_offline_and_return_cases(self, request, queryset) -> None:
        self._change_status(request, queryset, Agent.Status.OFFLINE, True)

    def _change_status(self, request, queryset, status: str, return_cases: bool):
        from cases.assignment import agent_change_status
        from cases.audit import Actor
        from supportdesk.errors import DomainError

        returned = 0
        for agent in queryset:
            try:
                returned += len(
                    agent_change_status(
                        agent=agent,
                        actor=Actor.for_user(request.user),
                        status=status,
                        return_cases=return_cases,
                    )
                )
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return
        agents = ngettext(
            "{count} agent is now {status}.",
            "{count} agents are now {status}.",
            queryset.count(),
        ).format(count=queryset.count(), status=status)
        cases = ngettext(
            "{count} case went back to the queue.",
            "{count} cases went back to the queue.",
            returned,
        ).format(count=returned)
        self.message_user(request, f"{agents} {cases}")

    def save_model(self, request, obj: Agent, form, change) -> None:
        super().save_model(request, obj, form, change)
        from agents.services import agent_sync_supervisor_access

        agent_sync_supervisor_access(obj)


class AgentInline(admin.StackedInline):
    model = Agent
    can_delete = False
    fields = ["display_name", "is_supervisor", "approval_limit", "status"]
    readonly_fields = ["status"]


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class SupportUserAdmin(UserAdmin):
    """Django's user admin with the agent profile on the same page."""

    inlines = [AgentInline]
    list_display = [
        "username",
        "email",
        "first_name",
        "last_name",
        "is_staff",
        "is_active",
    ]

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        from agents.services import agent_sync_supervisor_access

        agent = Agent.objects.filter(user=form.instance).first()
        if agent is not None:
            agent_sync_supervisor_access(agent)
