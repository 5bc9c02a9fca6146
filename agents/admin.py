from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Count

from agents.models import Agent, Membership, Team


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["agent", "team"]


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
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    @admin.display(description="Members", ordering="member_count")
    def member_count(self, team: Team) -> int:
        return team.member_count


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["display_name", "user", "is_supervisor", "approval_limit", "status"]
    list_filter = ["is_supervisor", "status", "teams"]
    search_fields = ["display_name", "user__username", "user__email"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
    inlines = [MembershipInline]

    def save_model(self, request, obj: Agent, form, change) -> None:
        super().save_model(request, obj, form, change)
        from agents.services import agent_sync_supervisor_access

        agent_sync_supervisor_access(obj)


class AgentInline(admin.StackedInline):
    model = Agent
    can_delete = False
    fields = ["display_name", "is_supervisor", "approval_limit", "status"]


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
