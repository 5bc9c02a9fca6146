from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from cases.models import (
    AuditEvent,
    CaseMessage,
    Customer,
    Order,
    OrderLine,
    SlaPolicy,
    SupportCase,
    Tag,
)
from supportdesk.bidi_display import multiline_for_staff
from supportdesk.money import Money
from supportdesk.pagination import CappedPaginator


class ReadOnlyAdminMixin:
    """Records that only services write: supervisors view them, never edit."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "phone", "created_at"]
    search_fields = ["name", "email", "phone", "key"]
    readonly_fields = ["key", "created_at", "updated_at"]
    show_full_result_count = False
    paginator = CappedPaginator


class OrderLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = OrderLine
    fields = (
        "position",
        "name",
        "sku",
        "quantity",
        "quantity_reserved",
        "line_total",
        "is_gift_card",
    )
    readonly_fields = fields

    @admin.display(description="Total")
    def line_total(self, line: OrderLine) -> str:
        return str(Money(line.total_minor, line.order.currency))


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "number",
        "customer_name",
        "email",
        "financial_status",
        "fulfillment_status",
        "total",
        "refunded",
        "placed_at",
    ]
    list_filter = ["financial_status", "fulfillment_status", "currency"]
    search_fields = ["number", "number_key", "email_key", "customer_name"]
    date_hierarchy = "placed_at"
    show_full_result_count = False
    paginator = CappedPaginator
    inlines = [OrderLineInline]

    @admin.display(description="Total", ordering="total_minor")
    def total(self, order: Order) -> str:
        return str(order.total)

    @admin.display(description="Refunded")
    def refunded(self, order: Order) -> str:
        return str(
            Money(order.refunded_minor + order.external_refunded_minor, order.currency)
        )


class CaseMessageInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CaseMessage
    fields = ("created_at", "kind", "author_name", "body_shown")
    readonly_fields = fields

    @admin.display(description="Body")
    def body_shown(self, message: CaseMessage) -> str:
        return multiline_for_staff(message.body)


class CaseEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = AuditEvent
    fields = ("occurred_at", "action", "actor_name", "reason_shown", "changes")
    readonly_fields = fields

    @admin.display(description="Reason")
    def reason_shown(self, event: AuditEvent) -> str:
        return multiline_for_staff(event.reason)

    verbose_name_plural = "history"


@admin.register(SupportCase)
class SupportCaseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "reference",
        "subject",
        "status",
        "priority",
        "team",
        "assignee",
        "customer",
        "order",
        "created_at",
    ]
    # The reference cell links to the agents' case page, and a link inside
    # the admin's own change link would nest one <a> in another.
    list_display_links = ["subject"]
    # Every filter lists a small table (agents, teams) or fixed choices.
    # RelatedOnlyFieldListFilter and date_hierarchy would each scan the whole
    # case table for their choices; orders are found through the search box.
    list_filter = [
        "status",
        "priority",
        "channel",
        "team",
        "assignee",
        ("created_at", admin.DateFieldListFilter),
    ]
    search_fields = ["subject", "customer__email", "customer__name", "order__number"]
    list_select_related = ["team", "assignee", "customer", "order"]
    show_full_result_count = False
    paginator = CappedPaginator
    inlines = [CaseMessageInline, CaseEventInline]

    @admin.display(description="Reference", ordering="pk")
    def reference(self, case: SupportCase) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("cases:detail", args=[case.reference]),
            case.reference,
        )

    def get_search_results(self, request, queryset, search_term):
        from cases.models import parse_case_reference

        results, may_have_duplicates = super().get_search_results(
            request, queryset, search_term
        )
        pk = parse_case_reference(search_term)
        if pk is not None:
            results = results | queryset.filter(pk=pk)
        return results, may_have_duplicates


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "occurred_at",
        "action",
        "actor_kind",
        "actor_name",
        "case",
        "target",
        "reason",
    ]
    list_filter = ["action", "actor_kind"]
    search_fields = ["action", "actor_name", "reason", "target_id"]
    date_hierarchy = "occurred_at"
    list_select_related = ["case", "target_type"]
    show_full_result_count = False
    paginator = CappedPaginator

    @admin.display(description="Target")
    def target(self, event: AuditEvent) -> str:
        return f"{event.target_type.model} {event.target_id}"


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ["priority", "first_response_minutes", "resolution_minutes"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    show_full_result_count = False
    paginator = CappedPaginator


# The email channel, macros and surveys keep their admin beside their code.
from cases.macros import admin as macros_admin  # noqa: E402, F401
from cases.mail import admin as mail_admin  # noqa: E402, F401
from cases.surveys import admin as surveys_admin  # noqa: E402, F401
