"""Orders whose shop refunds differ from Supportdesk's, for supervisors."""

from __future__ import annotations

from django.contrib import admin

from cases.audit import Actor
from refunds.admin.actions import run_with_reason
from refunds.models import ReconciliationFlag
from refunds.services.reconciliation import flag_resolve


@admin.register(ReconciliationFlag)
class ReconciliationFlagAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "order",
        "kind",
        "status",
        "shop_refunded",
        "expected",
        "difference",
        "refund",
    ]
    list_filter = ["status", "kind", "currency"]
    search_fields = ["order__number", "detail"]
    list_select_related = ["order", "refund"]
    actions = ["resolve"]
    readonly_fields = [
        "order",
        "refund",
        "kind",
        "status",
        "currency",
        "shop_refunded",
        "expected",
        "approved_here",
        "detail",
        "created_at",
        "resolved_at",
        "resolved_by",
        "resolution_note",
    ]
    exclude = ["shop_refunded_minor", "expected_minor", "supportdesk_approved_minor"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Shop refunded", ordering="shop_refunded_minor")
    def shop_refunded(self, flag: ReconciliationFlag) -> str:
        return str(flag.shop_refunded)

    @admin.display(description="Supportdesk expected", ordering="expected_minor")
    def expected(self, flag: ReconciliationFlag) -> str:
        return str(flag.expected)

    @admin.display(description="Difference")
    def difference(self, flag: ReconciliationFlag) -> str:
        return str(flag.difference)

    @admin.display(description="Approved in Supportdesk")
    def approved_here(self, flag: ReconciliationFlag) -> str:
        return str(flag.order.money(flag.supportdesk_approved_minor))

    @admin.action(description="Resolve the selected flags, with a note")
    def resolve(self, request, queryset):
        actor = Actor.for_user(request.user)
        return run_with_reason(
            self,
            request,
            queryset,
            action="resolve",
            title="Resolve flags",
            help_text="Say what you checked or corrected in the shop or here.",
            perform=lambda flag, note: flag_resolve(flag=flag, actor=actor, note=note),
        )
