"""Supervisors' view of received and sent email. Services write; nobody edits."""

from django.contrib import admin, messages

from cases.admin import ReadOnlyAdminMixin
from cases.mail.models import EmailAttachment, InboundEmail, OutboundEmail
from cases.mail.outbound import outbound_deliver


class EmailAttachmentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = EmailAttachment
    fields = ("filename", "content_type", "size_bytes", "created_at")
    readonly_fields = fields


@admin.register(InboundEmail)
class InboundEmailAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "received_at",
        "from_address",
        "subject",
        "disposition",
        "reason",
        "case",
        "source",
    ]
    list_filter = ["disposition", "source"]
    search_fields = ["message_id", "from_address", "subject"]
    list_select_related = ["case"]
    date_hierarchy = "received_at"
    show_full_result_count = False
    inlines = [EmailAttachmentInline]


@admin.register(OutboundEmail)
class OutboundEmailAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "kind",
        "to_address",
        "subject",
        "status",
        "attempts",
        "last_error",
        "case",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["message_id", "to_address", "subject"]
    list_select_related = ["case"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    exclude = ["body_html"]
    actions = ["retry_now"]

    @admin.action(description="Retry sending now")
    def retry_now(self, request, queryset):
        failed = list(
            queryset.filter(status=OutboundEmail.Status.FAILED).values_list(
                "pk", flat=True
            )
        )
        # A failed email goes back to the queue with a fresh attempt budget.
        OutboundEmail.objects.filter(pk__in=failed).update(
            status=OutboundEmail.Status.QUEUED, attempts=0
        )
        sent = sum(outbound_deliver(pk) for pk in failed)
        self.message_user(
            request,
            f"{sent} of {len(failed)} failed emails sent.",
            messages.SUCCESS if sent == len(failed) else messages.WARNING,
        )
