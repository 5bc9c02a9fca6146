"""API views of refund requests. Every write goes through refunds.services."""

from __future__ import annotations

import hashlib

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.models import SupportCase
from cases.selectors import order_for_user
from cases.shopify_export import order_number_key
from refunds import selectors, services
from refunds.api.serializers import (
    ApproveSerializer,
    EscalateSerializer,
    MarkRefundedSerializer,
    RefundCreateSerializer,
    RefundDetailSerializer,
    RefundListQuerySerializer,
    RefundSerializer,
    RejectSerializer,
)
from refunds.models import RefundRequest
from supportdesk.api import idempotency
from supportdesk.api.conditional import conditional_response
from supportdesk.api.pagination import CursorPagination
from supportdesk.api.permissions import HasRole, IsAgent, api_actor
from supportdesk.money import InvalidAmount, to_minor

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    idempotency.HEADER,
    location=OpenApiParameter.HEADER,
    required=False,
    description="A unique value per refund request, such as a UUID. A retry "
    "with the same key and body returns the first response; the same key with "
    "another body gets 422.",
)


REFUND_REFERENCE = OpenApiParameter(
    "reference",
    str,
    OpenApiParameter.PATH,
    pattern=r"^[Rr]-[0-9]{1,9}$",
    description="The refund reference, such as R-000045.",
    examples=[OpenApiExample("A refund", value="R-000001")],
)


class RefundPagination(CursorPagination):
    ordering = ("-created_at", "-id")


@extend_schema(tags=["refunds"])
class RefundListView(generics.ListAPIView):
    """List the refunds visible to the caller, newest first, or file a request."""

    permission_classes = [HasRole]
    serializer_class = RefundSerializer
    pagination_class = RefundPagination

    @extend_schema(
        summary="List the refunds visible to the caller",
        parameters=[RefundListQuerySerializer],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = RefundListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        refunds = selectors.refunds_visible_to_user(self.request.user)
        if "status" in filters:
            refunds = refunds.filter(status=filters["status"])
        if "outcome" in filters:
            refunds = refunds.filter(outcome=filters["outcome"])
        if "order" in filters:
            refunds = refunds.filter(
                order__number_key=order_number_key(filters["order"])
            )
        if "created_since" in filters:
            refunds = refunds.filter(created_at__gte=filters["created_since"])
        return refunds.select_related(
            "order", "case", "requested_by", "decided_by"
        ).prefetch_related("lines__order_line")

    @extend_schema(
        summary="File a refund request for some lines of an order",
        description="Runs the eligibility rules like the public refund form. A "
        "request that passes every rule within the policy's automatic limit is "
        "approved at once; one that breaks a rule is rejected with 400 and the "
        "reasons, and nothing is stored.",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=RefundCreateSerializer,
        responses={201: RefundDetailSerializer},
    )
    def post(self, request, *args, **kwargs):
        key = idempotency.idempotency_key(request)
        serializer = RefundCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return idempotency.run_idempotent(
            request,
            key=key,
            perform=lambda: self._create(request, serializer.validated_data, key),
        )

    def _create(self, request, data: dict, key: str | None) -> Response:
        order = order_for_user(request.user, data["order_number"])
        if order is None:
            raise ValidationError(
                {"order_number": ["No order has this number. Check it, such as #1001."]}
            )
        line_ids = dict(order.lines.values_list("position", "id"))
        unknown = [
            index
            for index, line in enumerate(data["lines"])
            if line["position"] not in line_ids
        ]
        if unknown:
            raise ValidationError(
                {
                    "lines": {
                        # DRF keys a list's errors by int position, as ListField
                        # does, and invalid_params() renders them as lines[0].
                        index: {"position": ["This order has no line here."]}  # type: ignore[misc]  # the stubs allow only str keys
                        for index in unknown
                    }
                }
            )
        refund = services.refund_request_create(
            order=order,
            selection={
                line_ids[line["position"]]: line["quantity"] for line in data["lines"]
            },
            reason_code=data["reason_code"],
            reason_text=data["reason_text"],
            actor=api_actor(request.user),
            submission_key=_submission_key(request.user, key),
            channel=SupportCase.Channel.API,
        )
        # Read back without the visibility check: an agent outside the refunds
        # team may file a request whose case lands in that team's queue.
        refund = (
            RefundRequest.objects.select_related("order", "case", "requested_by")
            .prefetch_related("lines__order_line")
            .get(pk=refund.pk)
        )
        return Response(
            RefundDetailSerializer(refund).data,
            status=status.HTTP_201_CREATED,
            headers={
                "Location": request.build_absolute_uri(
                    f"{request.path}{refund.reference}/"
                )
            },
        )


def _submission_key(user, key: str | None) -> str | None:
    """Return the service's de-duplication key for an Idempotency-Key.

    The idempotency store already runs a key once. Passing this key as well
    makes refund_request_create return the refund that the key filed, rather
    than file another, if a request ever reaches it twice.
    """
    if key is None:
        return None
    digest = hashlib.sha256(f"{user.pk}\n{key}".encode()).hexdigest()
    return f"api-{digest[:60]}"


@extend_schema(parameters=[REFUND_REFERENCE])
class RefundDetailView(APIView):
    permission_classes = [HasRole]

    @extend_schema(
        tags=["refunds"],
        summary="A refund request with its eligibility trace",
        responses={200: RefundDetailSerializer},
    )
    def get(self, request, reference: str):
        refund = selectors.refund_for_user(request.user, reference)
        return conditional_response(request, RefundDetailSerializer(refund).data)


class RefundActionView(APIView):
    """One decision on a refund: validate, call the service, return the refund."""

    serializer_class: type = ApproveSerializer

    def post(self, request, reference: str):
        refund = selectors.refund_for_user(request.user, reference)
        serializer = self.serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.perform(request, refund, serializer.validated_data)
        refund = selectors.refund_for_user(request.user, reference)
        return Response(RefundDetailSerializer(refund).data)

    def perform(self, request, refund, data: dict) -> None:
        raise NotImplementedError


@extend_schema(
    tags=["refunds"],
    parameters=[REFUND_REFERENCE],
    summary="Approve a refund in full, or in part with amount",
    description="The same rules as the case page: an agent approves up to "
    "their own limit, a supervisor above it or above the policy's threshold, "
    "and whoever filed the request cannot approve it above their limit.",
    request=ApproveSerializer,
    responses={200: RefundDetailSerializer},
)
class RefundApproveView(RefundActionView):
    permission_classes = [IsAgent]
    serializer_class = ApproveSerializer

    def perform(self, request, refund, data: dict) -> None:
        currency = data.get("currency")
        if currency is not None and currency.upper() != refund.currency:
            raise ValidationError(
                {"currency": [f"This refund is in {refund.currency}."]}
            )
        amount_minor = None
        if "amount" in data:
            amount_minor = _amount_minor(data["amount"], refund)
        services.refund_approve(
            refund=refund,
            actor=api_actor(request.user),
            amount_minor=amount_minor,
            reason=data["reason"],
        )


@extend_schema(
    tags=["refunds"],
    parameters=[REFUND_REFERENCE],
    summary="Send a refund to a supervisor with a recommendation",
    description="For an agent who may not approve the amount: above their "
    "limit, above the policy's threshold, or a request they filed or changed. "
    "The refund stays awaiting a decision for the customer and joins the "
    "supervisors' list. 400 if the agent could approve it, 409 if it is "
    "decided or already sent.",
    request=EscalateSerializer,
    responses={200: RefundDetailSerializer},
)
class RefundEscalateView(RefundActionView):
    permission_classes = [IsAgent]
    serializer_class = EscalateSerializer

    def perform(self, request, refund, data: dict) -> None:
        services.refund_escalate(
            refund=refund,
            actor=api_actor(request.user),
            amount_minor=_amount_minor(data["amount"], refund),
            note=data["note"],
        )


def _amount_minor(amount, refund) -> int:
    """Convert the request's ``amount`` to minor units of the refund's currency."""
    try:
        return to_minor(amount, refund.currency)
    except InvalidAmount as exc:
        raise InvalidAmount(exc.message, field="amount") from None


@extend_schema(
    tags=["refunds"],
    parameters=[REFUND_REFERENCE],
    summary="Reject a refund with a reason for the customer",
    request=RejectSerializer,
    responses={200: RefundDetailSerializer},
)
class RefundRejectView(RefundActionView):
    permission_classes = [IsAgent]
    serializer_class = RejectSerializer

    def perform(self, request, refund, data: dict) -> None:
        services.refund_reject(
            refund=refund, actor=api_actor(request.user), reason=data["reason"]
        )


@extend_schema(
    tags=["refunds"],
    parameters=[REFUND_REFERENCE],
    summary="Record that the approved amount was paid back",
    request=MarkRefundedSerializer,
    responses={200: RefundDetailSerializer},
)
class RefundMarkRefundedView(RefundActionView):
    permission_classes = [HasRole]
    serializer_class = MarkRefundedSerializer

    def perform(self, request, refund, data: dict) -> None:
        services.refund_mark_refunded(
            refund=refund,
            actor=api_actor(request.user),
            external_reference=data["external_reference"],
        )
