"""JSON shapes of refund requests, and the input of refund writes."""

from __future__ import annotations

from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.api.serializers import amount_text
from refunds.models import RefundLine, RefundRequest
from refunds.services import MAX_REASON_LENGTH
from supportdesk.api.fields import AmountField, SingleLineTextField, TextField


class RefundLineSerializer(serializers.ModelSerializer):
    position = serializers.IntegerField(source="order_line.position")
    name = serializers.CharField(source="order_line.name")
    amount = serializers.SerializerMethodField()

    class Meta:
        model = RefundLine
        fields = ["position", "name", "quantity", "amount"]

    def get_amount(self, line) -> str:
        return amount_text(line.amount_minor, line.refund.currency)


class TraceEntrySerializer(serializers.Serializer):
    rule = serializers.CharField()
    result = serializers.ChoiceField(
        choices=["pass", "needs_agent", "needs_supervisor", "reject"]
    )
    detail = serializers.CharField(help_text="The facts the rule used, for agents.")
    customer_message = serializers.CharField()
    line_position = serializers.IntegerField(
        allow_null=True, help_text="The order line the rule judged, if one."
    )


class RefundSerializer(serializers.ModelSerializer):
    reference = serializers.CharField()
    order = serializers.CharField(source="order.number")
    case = serializers.SerializerMethodField()
    requested_amount = serializers.SerializerMethodField()
    shipping_amount = serializers.SerializerMethodField(
        help_text="The shipping charge included in requested_amount."
    )
    approved_amount = serializers.SerializerMethodField()
    requested_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    decided_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    lines = RefundLineSerializer(many=True)

    class Meta:
        model = RefundRequest
        fields = [
            "reference",
            "status",
            "order",
            "case",
            "currency",
            "requested_amount",
            "shipping_amount",
            "approved_amount",
            "reason_code",
            "reason_text",
            "outcome",
            "lines",
            "requested_by",
            "created_at",
            "decided_by",
            "decided_at",
            "decision_note",
            "refunded_at",
            "external_reference",
        ]

    def get_case(self, refund) -> str | None:
        return refund.case.reference if refund.case_id else None

    def get_requested_amount(self, refund) -> str:
        return amount_text(refund.requested_minor, refund.currency)

    def get_shipping_amount(self, refund) -> str:
        return amount_text(refund.shipping_minor, refund.currency)

    def get_approved_amount(self, refund) -> str | None:
        if refund.approved_minor is None:
            return None
        return amount_text(refund.approved_minor, refund.currency)


class RefundDetailSerializer(RefundSerializer):
    eligibility_trace = serializers.SerializerMethodField(
        help_text="Every eligibility rule with its result, when the request was filed."
    )

    class Meta(RefundSerializer.Meta):
        fields = [*RefundSerializer.Meta.fields, "eligibility_trace"]

    @extend_schema_field(TraceEntrySerializer(many=True))
    def get_eligibility_trace(self, refund) -> list[dict]:
        positions = dict(refund.order.lines.values_list("id", "position"))
        return [
            {
                "rule": entry.get("rule", ""),
                "result": entry.get("result", ""),
                "detail": entry.get("detail", ""),
                "customer_message": entry.get("customer_message", ""),
                "line_position": positions.get(entry.get("line_id")),
            }
            for entry in refund.eligibility_trace
        ]


class RefundListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=RefundRequest.Status.values, required=False
    )
    outcome = serializers.ChoiceField(
        choices=RefundRequest.Outcome.values, required=False
    )
    order = serializers.CharField(
        required=False, max_length=64, help_text="An order number."
    )
    created_since = serializers.DateTimeField(required=False)


class RefundLineInputSerializer(serializers.Serializer):
    position = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, help_text="The order line's position."
    )
    quantity = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


class RefundCreateSerializer(serializers.Serializer):
    order_number = SingleLineTextField(max_length=64)
    lines = RefundLineInputSerializer(  # type: ignore[call-arg]  # the stubs lack ListSerializer's max_length
        many=True, allow_empty=False, max_length=500
    )
    reason_code = serializers.ChoiceField(choices=RefundRequest.Reason.values)
    reason_text = TextField(
        max_length=MAX_REASON_LENGTH, required=False, default="", allow_blank=True
    )

    def validate_lines(self, lines):
        positions = [line["position"] for line in lines]
        if len(set(positions)) != len(positions):
            raise serializers.ValidationError(
                "An order line appears twice. Send each position once with the "
                "total quantity."
            )
        return lines


class ApproveSerializer(serializers.Serializer):
    amount = AmountField(
        required=False,
        help_text="The amount to refund, at most the requested amount. Leave "
        "it out to approve in full.",
    )
    currency = serializers.CharField(
        required=False,
        max_length=3,
        help_text="If given, must be the refund's currency.",
    )
    reason = TextField(
        required=False, default="", allow_blank=True, max_length=MAX_REASON_LENGTH
    )


class EscalateSerializer(serializers.Serializer):
    amount = AmountField(
        help_text="The amount the agent recommends, at most the requested amount."
    )
    note = TextField(
        max_length=MAX_REASON_LENGTH,
        help_text="Why the agent recommends it. Supervisors read it; the customer "
        "does not.",
    )


class RejectSerializer(serializers.Serializer):
    reason = TextField(
        max_length=MAX_REASON_LENGTH, help_text="The customer reads this reason."
    )


class MarkRefundedSerializer(serializers.Serializer):
    external_reference = TextField(
        required=False,
        default="",
        allow_blank=True,
        max_length=200,
        help_text="The shop's or payment provider's reference of the payout.",
    )
