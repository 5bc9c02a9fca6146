"""Refund requests, the supervisors' approvals list and the decisions log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from cases.audit import Actor
from refunds import selectors, services
from refunds.admin.actions import ReadOnlyAdmin, perform_each, run_with_reason
from refunds.models import (
    AwaitingSupervisor,
    RefundAttempt,
    RefundDecision,
    RefundLine,
    RefundRequest,
)
from refunds.selectors import Recommendation
from supportdesk.bidi_display import multiline_for_staff, show_bidi_controls
from supportdesk.money import Money

if TYPE_CHECKING:
    # Only in the type stubs (requirements-dev.txt), not needed at run time.
    from django_stubs_ext import WithAnnotations


class RefundLineInline(admin.TabularInline):
    model = RefundLine
    fields = ("order_line", "quantity", "amount_minor")
    readonly_fields = fields
    can_delete = False
    extra = 0

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class RefundDecisionInline(admin.TabularInline):
    model = RefundDecision
    fields = ("created_at", "kind", "actor_name", "level", "amount", "reason_shown")
    readonly_fields = fields
    can_delete = False
    extra = 0
    ordering = ["created_at", "id"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Amount")
    def amount(self, decision: RefundDecision) -> str:
        return str(decision.amount) if decision.amount else "—"

    @admin.display(description="Reason")
    def reason_shown(self, decision: RefundDecision) -> str:
        return multiline_for_staff(decision.reason)


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
    inlines = [RefundLineInline, RefundDecisionInline]
    actions = ["approve_in_full", "reject_with_reason"]
    readonly_fields = [
        "order",
        "case",
        "customer",
        "status",
        "reason_code",
        "reason_text_shown",
        "currency",
        "requested",
        "approved",
        "shipping_minor",
        "outcome",
        "trace",
        "requested_by",
        "amount_changed_by",
        "amount_changed_at",
        "created_at",
        "decided_at",
        "decided_by",
        "decision_note_shown",
        "refunded_at",
        "external_reference",
    ]
    exclude = [
        "reason_text",
        "decision_note",
        "token",
        "submission_key",
        "requested_minor",
        "approved_minor",
        "eligibility_trace",
    ]

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

    @admin.display(description="Reason text")
    def reason_text_shown(self, refund: RefundRequest) -> str:
        return multiline_for_staff(refund.reason_text)

    @admin.display(description="Decision note")
    def decision_note_shown(self, refund: RefundRequest) -> str:
        return multiline_for_staff(refund.decision_note)

    @admin.display(description="Eligibility trace")
    def trace(self, refund: RefundRequest) -> str:
        """Render every rule with its result, the facts it used and its message."""
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    item.get("rule", ""),
                    item.get("result", ""),
                    item.get("detail", ""),
                    item.get("customer_message", ""),
                )
                for item in refund.eligibility_trace
            ),
        )
        return format_html(
            "<table><thead><tr><th>Rule</th><th>Result</th><th>Facts</th>"
            "<th>Customer saw</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    @admin.action(description="Approve the selected requests in full")
    def approve_in_full(self, request, queryset) -> None:
        actor = Actor.for_user(request.user)
        perform_each(
            self,
            request,
            queryset,
            perform=lambda refund: services.refund_approve(
                refund=refund, actor=actor, reason="Approved in the admin."
            ),
            success=("Approved {count} request.", "Approved {count} requests."),
        )

    @admin.action(description="Reject the selected requests, with a reason")
    def reject_with_reason(self, request, queryset):
        actor = Actor.for_user(request.user)
        return run_with_reason(
            self,
            request,
            queryset,
            action="reject_with_reason",
            title="Reject requests",
            help_text="The customer reads this reason in the email and on the "
            "status page.",
            perform=lambda refund, reason: services.refund_reject(
                refund=refund, actor=actor, reason=reason
            ),
        )


@admin.register(AwaitingSupervisor)
class AwaitingSupervisorAdmin(RefundRequestAdmin):
    """The supervisors' approvals list: what waits for them and why."""

    list_display = [
        "reference",
        "order",
        "customer",
        "requested",
        "why",
        "recommendation",
        "requested_by",
        "amount_changed_by",
        "created_at",
    ]
    list_filter = ["outcome", "reason_code", "currency"]
    list_select_related = ["order", "customer", "requested_by", "amount_changed_by"]
    ordering = ["created_at", "id"]

    def get_queryset(self, request):
        return selectors.latest_escalation(
            selectors.awaiting_supervisor().select_related(
                "order", "customer", "requested_by", "amount_changed_by"
            )
        )

    @admin.display(description="Agent's recommendation")
    def recommendation(
        self, refund: WithAnnotations[RefundRequest, Recommendation]
    ) -> str:
        if refund.recommended_minor is None:
            return "—"
        amount = Money(refund.recommended_minor, refund.currency)
        return format_html(
            "{} recommends {}: <bdi>{}</bdi>",
            refund.recommended_by,
            amount,
            show_bidi_controls(refund.recommendation_note or ""),
        )

    @admin.display(description="Why a supervisor")
    def why(self, refund: RefundRequest) -> str:
        details = [
            item.get("detail", "")
            for item in refund.eligibility_trace
            if item.get("result") != "pass"
        ]
        return " ".join(details) or "Above the policy's supervisor threshold."


@admin.register(RefundDecision)
class RefundDecisionAdmin(ReadOnlyAdmin):
    """Every decision with who, when, amount and reason; never edited."""

    list_display = ["created_at", "refund", "kind", "actor_name", "level", "amount"]
    list_filter = ["kind", "level", "currency"]
    search_fields = ["actor_name", "reason", "refund__order__number"]
    list_select_related = ["refund"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description="Amount", ordering="amount_minor")
    def amount(self, decision: RefundDecision) -> str:
        return str(decision.amount) if decision.amount else "—"


@admin.register(RefundAttempt)
class RefundAttemptAdmin(ReadOnlyAdmin):
    """Evaluated submissions, declined ones included, that policy previews replay."""

    list_display = ["created_at", "order", "outcome", "amount", "refund"]
    list_filter = ["outcome", "currency"]
    search_fields = ["order__number"]
    list_select_related = ["order", "refund"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description="Amount", ordering="amount_minor")
    def amount(self, attempt: RefundAttempt) -> str:
        return str(attempt.amount)
