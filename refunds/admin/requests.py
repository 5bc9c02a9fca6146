"""Refund requests, the supervisors' approvals list and the decisions log."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.contrib import admin
from django.db.models import IntegerField, OuterRef, Subquery, Value
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from agents.models import Agent
from cases.audit import Actor
from refunds import selectors, services
from refunds.admin.actions import ReadOnlyAdmin, perform_each, run_with_reason
from refunds.eligibility import NEEDS_SUPERVISOR
from refunds.models import (
    AwaitingSupervisor,
    RefundAttempt,
    RefundDecision,
    RefundLine,
    RefundRequest,
)
from refunds.selectors import Recommendation
from supportdesk.bidi_display import multiline_for_staff, show_bidi_controls
from supportdesk.errors import DomainError
from supportdesk.money import Money, limit_to_minor

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


class SupervisorFacts(Recommendation):
    """Annotations of the supervisors' list, in addition to the recommendation.

    ``policy_currency`` and ``threshold_minor`` come from the active policy,
    read once per request. ``escalated_by_limit`` is the approval limit of the
    agent who sent the request to a supervisor, in the policy currency.
    """

    policy_currency: str
    threshold_minor: int
    escalated_by_limit: Decimal | None


@admin.register(AwaitingSupervisor)
class AwaitingSupervisorAdmin(RefundRequestAdmin):
    """The supervisors' approvals list: what waits for them and why."""

    list_display = [
        "reference",
        "case_link",
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
    actions = ["approve_recommended", "approve_in_full", "reject_with_reason"]

    def get_queryset(self, request):
        policy = selectors.active_policy()
        threshold = limit_to_minor(policy.supervisor_threshold, policy.currency)
        escalated_by = RefundDecision.objects.filter(
            refund=OuterRef(OuterRef("pk")), kind=RefundDecision.Kind.ESCALATED
        ).order_by("-created_at", "-id")
        limits = Agent.objects.filter(
            user_id=Subquery(escalated_by.values("actor_user")[:1])
        )
        refunds = selectors.awaiting_supervisor(policy).select_related(
            "order", "customer", "requested_by", "amount_changed_by", "case"
        )
        return selectors.latest_escalation(refunds).annotate(
            policy_currency=Value(policy.currency),
            threshold_minor=Value(threshold, output_field=IntegerField()),
            escalated_by_limit=Subquery(limits.values("approval_limit")[:1]),
        )

    @admin.display(description="Case")
    def case_link(self, refund: RefundRequest) -> str:
        """Render a link to the agents' case page, where the refund can be decided."""
        if refund.case is None:
            return "—"
        return format_html(
            '<a class="nowrap" href="{}">{}</a>',
            reverse("cases:detail", args=[refund.case.reference]),
            refund.case.reference,
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
    def why(self, refund: WithAnnotations[RefundRequest, SupervisorFacts]) -> str:
        """Explain in words every reason the request waits for a supervisor."""
        reasons = []
        if refund.recommended_minor is not None:
            recommended = Money(refund.recommended_minor, refund.currency)
            if refund.escalated_by_limit is None:
                reasons.append(
                    f"{refund.recommended_by} sent it to a supervisor and "
                    f"recommends {recommended}."
                )
            else:
                limit_minor = limit_to_minor(
                    refund.escalated_by_limit, refund.policy_currency
                )
                limit = Money(limit_minor, refund.policy_currency)
                reasons.append(
                    f"{refund.recommended_by} (approval limit {limit}) sent it to a "
                    f"supervisor and recommends {recommended}."
                )
        if refund.outcome == RefundRequest.Outcome.NEEDS_SUPERVISOR:
            # The eligibility check already explained its rule in the trace.
            reasons.extend(
                item.get("detail", "")
                for item in refund.eligibility_trace
                if item.get("result") == NEEDS_SUPERVISOR
            )
        elif refund.currency != refund.policy_currency:
            reasons.append(
                f"It is in {refund.currency}, not the policy currency "
                f"{refund.policy_currency}."
            )
        elif refund.requested_minor > refund.threshold_minor:
            threshold = Money(refund.threshold_minor, refund.currency)
            reasons.append(
                f"{refund.requested} is above the supervisor threshold of {threshold}."
            )
        return " ".join(reasons) or "—"

    @admin.action(description="Approve the selected requests at the agent's amount")
    def approve_recommended(self, request, queryset) -> None:
        """Approve each request at the amount its agent recommended.

        The approval service applies the supervisor's limit and the four-eyes
        rule, and records the decision and audit event with a reason that
        names the recommending agent.
        """
        actor = Actor.for_user(request.user)

        def approve(refund: WithAnnotations[RefundRequest, Recommendation]):
            if refund.recommended_minor is None:
                raise DomainError(
                    "No agent recommended an amount. Open the case to decide."
                )
            amount = Money(refund.recommended_minor, refund.currency)
            return services.refund_approve(
                refund=refund,
                actor=actor,
                amount_minor=refund.recommended_minor,
                reason=f"Approved {amount} as {refund.recommended_by} recommended.",
            )

        perform_each(
            self,
            request,
            queryset,
            perform=approve,
            success=(
                "Approved {count} request at the agent's amount.",
                "Approved {count} requests at the agents' amounts.",
            ),
        )


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
