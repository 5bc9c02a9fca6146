from django.contrib import admin, messages

from cases.audit import Actor
from refunds import services
from refunds.models import RefundLine, RefundPolicy, RefundRequest
from supportdesk.errors import DomainError


@admin.register(RefundPolicy)
class RefundPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "is_active",
        "return_window_days",
        "currency",
        "supervisor_threshold",
        "updated_at",
    ]
    list_filter = ["is_active"]
    fieldsets = [
        (None, {"fields": ["name", "is_active", "currency"]}),
        ("Return window", {"fields": ["return_window_days", "time_zone"]}),
        (
            "What cannot be refunded",
            {
                "fields": [
                    "non_refundable_skus",
                    "non_refundable_tags",
                    "gift_cards_refundable",
                ]
            },
        ),
        (
            "Amounts",
            {
                "fields": [
                    "shipping_refundable",
                    "auto_approve_limit",
                    "supervisor_threshold",
                ]
            },
        ),
        (
            "Abuse signals",
            {"fields": ["abuse_period_days", "abuse_max_refunds", "abuse_max_ratio"]},
        ),
        ("Proof of ownership", {"fields": ["require_ownership_proof"]}),
    ]


class RefundLineInline(admin.TabularInline):
    model = RefundLine
    fields = ["order_line", "quantity", "amount_minor"]
    readonly_fields = fields
    can_delete = False
    extra = 0

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RefundRequest)
class RefundRequestAdmin(admin.ModelAdmin):
    list_display = [
        "reference",
        "order",
        "customer",
        "status",
        "outcome",
        "requested",
        "approved",
        "created_at",
    ]
    list_filter = ["status", "outcome", "reason_code", "currency"]
    search_fields = [
        "order__number",
        "order__email_key",
        "customer__name",
        "external_reference",
    ]
    list_select_related = ["order", "customer"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [RefundLineInline]
    actions = ["approve_in_full"]
    readonly_fields = [
        "order",
        "case",
        "customer",
        "status",
        "reason_code",
        "reason_text",
        "currency",
        "requested",
        "approved",
        "shipping_minor",
        "outcome",
        "eligibility_trace",
        "requested_by",
        "created_at",
        "decided_at",
        "decided_by",
        "decision_note",
        "refunded_at",
        "external_reference",
    ]
    exclude = ["token", "submission_key", "requested_minor", "approved_minor"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Reference", ordering="pk")
    def reference(self, refund: RefundRequest) -> str:
        return refund.reference

    @admin.display(description="Requested", ordering="requested_minor")
    def requested(self, refund: RefundRequest) -> str:
        return str(refund.requested)

    @admin.display(description="Approved", ordering="approved_minor")
    def approved(self, refund: RefundRequest) -> str:
        return str(refund.approved) if refund.approved else "—"

    @admin.action(description="Approve the selected requests in full")
    def approve_in_full(self, request, queryset) -> None:
        actor = Actor.for_user(request.user)
        approved = 0
        for refund in queryset:
            try:
                services.refund_approve(
                    refund=refund, actor=actor, reason="Approved in the admin."
                )
            except DomainError as exc:
                self.message_user(
                    request, f"{refund.reference}: {exc.message}", messages.ERROR
                )
            else:
                approved += 1
        if approved:
            self.message_user(
                request, f"Approved {approved} request(s).", messages.SUCCESS
            )
