"""JSON shapes of orders, cases and messages, and the input of case writes."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agents.models import Team
from cases.models import CaseMessage, Order, OrderLine, SupportCase
from cases.services import MAX_MESSAGE_LENGTH
from supportdesk.api.fields import SingleLineTextField, TextField
from supportdesk.money import from_minor

PRIORITY_NAMES = {
    SupportCase.Priority.LOW: "low",
    SupportCase.Priority.NORMAL: "normal",
    SupportCase.Priority.HIGH: "high",
    SupportCase.Priority.URGENT: "urgent",
}
PRIORITY_VALUES = {name: value for value, name in PRIORITY_NAMES.items()}


def amount_text(minor: int, currency: str) -> str:
    """Return minor units as a decimal string with the currency's decimals."""
    return str(from_minor(minor, currency))


class OrderLineSerializer(serializers.ModelSerializer):
    unit_price = serializers.SerializerMethodField()
    total = serializers.SerializerMethodField()
    quantity_refundable = serializers.IntegerField(
        help_text="Units not yet held by a refund request that is still open, "
        "approved or refunded."
    )

    class Meta:
        model = OrderLine
        fields = [
            "position",
            "name",
            "sku",
            "quantity",
            "quantity_refundable",
            "unit_price",
            "total",
            "is_gift_card",
        ]

    def get_unit_price(self, line) -> str:
        return amount_text(line.unit_price_minor, line.order.currency)

    def get_total(self, line) -> str:
        return amount_text(line.total_minor, line.order.currency)


class OrderSerializer(serializers.ModelSerializer):
    total = serializers.SerializerMethodField()
    paid = serializers.SerializerMethodField()
    refunded = serializers.SerializerMethodField(
        help_text="Refunded through Supportdesk and by the shop itself."
    )
    refundable = serializers.SerializerMethodField(
        help_text="What may still be refunded: the amount paid, less refunds "
        "and less what requests awaiting a decision ask for. Those requests "
        "also hold their units, which quantity_refundable leaves out."
    )

    class Meta:
        model = Order
        fields = [
            "number",
            "email",
            "customer_name",
            "currency",
            "financial_status",
            "fulfillment_status",
            "placed_at",
            "fulfilled_at",
            "cancelled_at",
            "total",
            "paid",
            "refunded",
            "refundable",
        ]

    def get_total(self, order) -> str:
        return amount_text(order.total_minor, order.currency)

    def get_paid(self, order) -> str:
        return amount_text(order.paid_minor, order.currency)

    def get_refunded(self, order) -> str:
        return amount_text(
            order.refunded_minor + order.external_refunded_minor, order.currency
        )

    def get_refundable(self, order) -> str:
        # pending_refund_minor is annotated by orders_visible_to_user().
        refundable = max(0, order.refundable_minor - order.pending_refund_minor)
        return amount_text(refundable, order.currency)


class OrderDetailSerializer(OrderSerializer):
    lines = OrderLineSerializer(many=True)

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "lines"]


class OrderListQuerySerializer(serializers.Serializer):
    number = serializers.CharField(
        required=False,
        max_length=64,
        help_text="Orders whose number starts with this, ignoring case and '#'.",
    )
    email = serializers.CharField(
        required=False, max_length=254, help_text="The order's email, in any case."
    )


class AgentRefSerializer(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    display_name = serializers.CharField()


class MessageSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author_name")

    class Meta:
        model = CaseMessage
        fields = ["id", "kind", "author", "body", "created_at"]


@extend_schema_field(
    {"type": "string", "enum": list(PRIORITY_VALUES), "example": "normal"}
)
class PriorityField(serializers.Field):
    """A priority by name: low, normal, high or urgent."""

    default_error_messages = {
        "invalid": "Choose a priority from: " + ", ".join(PRIORITY_VALUES) + "."
    }

    def to_internal_value(self, data) -> int:
        if not isinstance(data, str) or data not in PRIORITY_VALUES:
            self.fail("invalid")
        return PRIORITY_VALUES[data]

    def to_representation(self, value) -> str:
        return PRIORITY_NAMES[value]


class CaseSerializer(serializers.ModelSerializer):
    reference = serializers.CharField()
    priority = PriorityField()
    team: serializers.SlugRelatedField[Team] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )
    assignee = AgentRefSerializer(allow_null=True)
    customer_name = serializers.SerializerMethodField()
    order: serializers.SlugRelatedField[Order] = serializers.SlugRelatedField(
        slug_field="number", read_only=True, allow_null=True
    )
    refund = serializers.SerializerMethodField()

    class Meta:
        model = SupportCase
        fields = [
            "reference",
            "subject",
            "status",
            "priority",
            "channel",
            "team",
            "assignee",
            "customer_name",
            "order",
            "refund",
            "created_at",
            "updated_at",
            "first_response_at",
            "solved_at",
            "closed_at",
            "version",
        ]

    def get_customer_name(self, case) -> str:
        return case.customer.name if case.customer else ""

    def get_refund(self, case) -> str | None:
        refund = getattr(case, "refund_request", None)
        return refund.reference if refund else None


class CaseDetailSerializer(CaseSerializer):
    messages = serializers.SerializerMethodField()

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "messages"]

    @extend_schema_field(MessageSerializer(many=True))
    def get_messages(self, case) -> list[dict]:
        return list(MessageSerializer(self.context["messages"], many=True).data)


class CaseListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["active", *SupportCase.Status.values],
        required=False,
        help_text="A status, or active for open, pending and on hold.",
    )
    team = serializers.SlugField(required=False, help_text="A team's slug.")
    assignee = serializers.CharField(
        required=False,
        max_length=150,
        help_text="me, unassigned, or an agent's username.",
    )
    priority = PriorityField(required=False)
    updated_since = serializers.DateTimeField(
        required=False, help_text="Only cases changed at or after this time."
    )


class CaseCreateSerializer(serializers.Serializer):
    subject = SingleLineTextField(max_length=200)
    body = TextField(
        max_length=MAX_MESSAGE_LENGTH,
        required=False,
        default="",
        allow_blank=True,
        help_text="The customer's first message, if any.",
    )
    order_number = SingleLineTextField(
        required=False, max_length=64, help_text="Links the case to this order."
    )
    team = serializers.SlugField(required=False, help_text="A team's slug.")
    priority = PriorityField(required=False, default=SupportCase.Priority.NORMAL)
    author_name = SingleLineTextField(
        required=False,
        default="",
        allow_blank=True,
        max_length=200,
        help_text="The customer's name, when no order gives it.",
    )


class CaseUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=SupportCase.Status.choices, required=False)
    status_reason = TextField(
        required=False, default="", allow_blank=True, max_length=500
    )
    priority = PriorityField(required=False)
    assignee = serializers.CharField(
        required=False,
        allow_null=True,
        max_length=150,
        help_text="me, an agent's username, or null to return the case to the queue.",
    )
    take_over = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Needed to move a case that another agent owns.",
    )

    def validate(self, attrs):
        if not {"status", "priority", "assignee"} & attrs.keys():
            raise serializers.ValidationError(
                "Send at least one of status, priority or assignee."
            )
        return attrs


class MessageCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[CaseMessage.Kind.REPLY, CaseMessage.Kind.NOTE],
        help_text="reply goes to the customer; note is for agents only.",
    )
    body = TextField(max_length=MAX_MESSAGE_LENGTH)
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text="The case version the reply answers. If the case changed "
        "since, the reply is held with a 409.",
    )
    status = serializers.ChoiceField(
        choices=SupportCase.Status.choices,
        required=False,
        help_text="Replies only: the status the case moves to with the reply, "
        "such as pending or solved. A status the case cannot move to gives a "
        "409, and the reply is not sent.",
    )

    def validate(self, attrs: dict) -> dict:
        if "status" in attrs and attrs["kind"] != CaseMessage.Kind.REPLY:
            raise serializers.ValidationError(
                {"status": "Only a reply can set the status; leave it out of notes."}
            )
        return attrs
