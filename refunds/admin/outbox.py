"""Webhook endpoints, the outbox and its dead letters."""

from __future__ import annotations

from django.contrib import admin, messages

from cases.audit import Actor
from refunds.admin.actions import perform_each
from refunds.models import DeadLetter, OutboxMessage, WebhookEndpoint
from refunds.models.outbox import new_webhook_secret
from refunds.services.outbox import outbox_retry


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "is_active", "created_at"]
    list_filter = ["is_active"]
    actions = ["rotate_secret"]

    @admin.action(description="Replace the secret of the selected endpoints")
    def rotate_secret(self, request, queryset) -> None:
        for endpoint in queryset:
            endpoint.secret = new_webhook_secret()
            endpoint.save(update_fields=["secret"])
        self.message_user(
            request,
            f"New secrets for {queryset.count()} endpoint(s). Give them to the shop: "
            "requests signed with an old secret now fail.",
            messages.WARNING,
        )


class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "event_type",
        "channel",
        "destination",
        "refund",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
    ]
    list_filter = ["status", "channel", "event_type"]
    search_fields = ["event_id", "recipient", "refund__order__number"]
    list_select_related = ["endpoint", "refund"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["retry"]
    readonly_fields = [
        "id",
        "event_id",
        "event_type",
        "channel",
        "endpoint",
        "refund",
        "recipient",
        "subject",
        "payload",
        "status",
        "attempts",
        "next_attempt_at",
        "locked_until",
        "last_status_code",
        "last_error",
        "created_at",
        "delivered_at",
    ]
    exclude = ["body_text", "body_html"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Send the selected failed deliveries again")
    def retry(self, request, queryset) -> None:
        actor = Actor.for_user(request.user)
        perform_each(
            self,
            request,
            queryset,
            perform=lambda message: outbox_retry(message=message, actor=actor),
            success=("Queued {count} message again.", "Queued {count} messages again."),
        )


admin.site.register(OutboxMessage, OutboxMessageAdmin)


@admin.register(DeadLetter)
class DeadLetterAdmin(OutboxMessageAdmin):
    """Messages whose every attempt failed, with the last error, to retry."""

    list_display = [
        "created_at",
        "event_type",
        "destination",
        "refund",
        "attempts",
        "last_status_code",
        "short_error",
    ]
    list_filter = ["channel", "event_type"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=OutboxMessage.Status.DEAD)

    @admin.display(description="Last error")
    def short_error(self, message: OutboxMessage) -> str:
        return message.last_error[:120]
