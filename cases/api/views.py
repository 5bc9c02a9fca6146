"""API views of orders and cases. Writes go through cases.services."""

from __future__ import annotations

from django.db import transaction
from django.http import Http404
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.models import Agent, Team
from cases import selectors, services
from cases.api.serializers import (
    CaseCreateSerializer,
    CaseDetailSerializer,
    CaseListQuerySerializer,
    CaseSerializer,
    CaseUpdateSerializer,
    MessageCreateSerializer,
    MessageSerializer,
    OrderDetailSerializer,
    OrderListQuerySerializer,
    OrderSerializer,
)
from cases.models import CaseMessage, SupportCase
from cases.shopify_export import order_number_key
from supportdesk.api.conditional import conditional_response
from supportdesk.api.pagination import CursorPagination
from supportdesk.api.permissions import HasRole, IsAgent, api_actor

CASE_REFERENCE = OpenApiParameter(
    "reference",
    str,
    OpenApiParameter.PATH,
    pattern=r"^[Cc]-[0-9]{1,9}$",
    description="The case reference, such as C-000123.",
    examples=[OpenApiExample("A case", value="C-000001")],
)
ORDER_NUMBER = OpenApiParameter(
    "number",
    str,
    OpenApiParameter.PATH,
    description="The order number, with or without its '#' (sent as %23).",
    examples=[OpenApiExample("An order", value="1001")],
)


class OrderPagination(CursorPagination):
    ordering = "-id"


class CasePagination(CursorPagination):
    ordering = ("-updated_at", "-id")


@extend_schema(
    tags=["orders"],
    summary="Search orders by number and email",
    parameters=[OrderListQuerySerializer],
)
class OrderListView(generics.ListAPIView):
    """List orders, newest import first, searchable by number and email."""

    permission_classes = [HasRole]
    serializer_class = OrderSerializer
    pagination_class = OrderPagination

    def get_queryset(self):
        query = OrderListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        orders = selectors.orders_visible_to_user(self.request.user)
        if number := query.validated_data.get("number"):
            orders = orders.filter(number_key__startswith=order_number_key(number))
        if email := query.validated_data.get("email"):
            orders = orders.filter(email_key=email.strip().lower())
        return orders


@extend_schema(parameters=[ORDER_NUMBER])
class OrderDetailView(APIView):
    permission_classes = [HasRole]

    @extend_schema(
        tags=["orders"],
        summary="An order with its lines and the quantity still refundable",
        responses={200: OrderDetailSerializer},
    )
    def get(self, request, number: str):
        order = selectors.order_for_user(request.user, number)
        if order is None:
            raise Http404("No such order.")
        return conditional_response(request, OrderDetailSerializer(order).data)


@extend_schema(tags=["cases"])
class CaseListView(generics.ListCreateAPIView):
    """List the cases visible to the caller, latest change first, or open one."""

    permission_classes = [HasRole]
    serializer_class = CaseSerializer
    pagination_class = CasePagination

    @extend_schema(
        summary="List the cases visible to the caller",
        parameters=[CaseListQuerySerializer],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = CaseListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        cases = selectors.cases_visible_to_user(self.request.user)
        cases = _filter_cases(cases, query.validated_data, self.request.user)
        return cases.select_related(
            "team", "assignee__user", "customer", "order", "refund_request"
        )

    @extend_schema(
        summary="Open a case",
        request=CaseCreateSerializer,
        responses={201: CaseDetailSerializer},
    )
    def post(self, request, *args, **kwargs):
        data = _valid(CaseCreateSerializer, request.data)
        order = None
        if data.get("order_number"):
            order = selectors.order_for_user(request.user, data["order_number"])
            if order is None:
                raise ValidationError(
                    {
                        "order_number": [
                            "No order has this number. Check it, such as #1001."
                        ]
                    }
                )
        case = services.case_create(
            actor=api_actor(request.user),
            subject=data["subject"],
            channel=SupportCase.Channel.API,
            body=data["body"],
            customer=order.customer if order else None,
            order=order,
            team=_team(data.get("team")),
            priority=data["priority"],
            author_name=data["author_name"],
        )
        # Serialized without the visibility check: an agent may open a case
        # in a team whose queue they do not see.
        response = _case_detail(request, case, status.HTTP_201_CREATED)
        response.headers["Location"] = request.build_absolute_uri(
            f"{request.path}{case.reference}/"
        )
        return response


@extend_schema(parameters=[CASE_REFERENCE])
class CaseDetailView(APIView):
    permission_classes = [HasRole]

    def get_permissions(self):
        if self.request.method == "PATCH":
            return [IsAgent()]
        return super().get_permissions()

    @extend_schema(
        tags=["cases"],
        summary="A case with its messages",
        responses={200: CaseDetailSerializer},
    )
    def get(self, request, reference: str):
        return _case_detail_response(request, reference)

    @extend_schema(
        tags=["cases"],
        summary="Change the status, priority or assignee of a case",
        description="Each change goes through the same rules as the case page. "
        "Assigning a case that another agent owns needs take_over; without it "
        "the answer is 409 naming the owner. Changes are made together or not "
        "at all.",
        request=CaseUpdateSerializer,
        responses={200: CaseDetailSerializer},
    )
    def patch(self, request, reference: str):
        case = selectors.case_for_user(request.user, reference)
        data = _valid(CaseUpdateSerializer, request.data)
        actor = api_actor(request.user)
        with transaction.atomic():
            if "status" in data:
                case = services.case_change_status(
                    case=case,
                    actor=actor,
                    status=data["status"],
                    reason=data["status_reason"],
                )
            if "priority" in data:
                case = services.case_change_priority(
                    case=case, actor=actor, priority=data["priority"]
                )
            if "assignee" in data:
                case = services.case_assign(
                    case=case,
                    actor=actor,
                    assignee=_assignee(data["assignee"], request.user),
                    take_over=data["take_over"],
                )
        # The updated case, even if the change took it out of the caller's
        # scope (an agent who returns a case to another team's queue).
        return _case_detail(request, case)


@extend_schema(parameters=[CASE_REFERENCE])
class CaseMessageView(APIView):
    permission_classes = [IsAgent]

    @extend_schema(
        tags=["cases"],
        summary="Reply to the customer, optionally setting the status, or add "
        "an internal note",
        request=MessageCreateSerializer,
        responses={201: MessageSerializer},
    )
    def post(self, request, reference: str):
        case = selectors.case_for_user(request.user, reference)
        data = _valid(MessageCreateSerializer, request.data)
        actor = api_actor(request.user)
        if "status" in data:
            message = services.case_reply_and_set_status(
                case=case,
                actor=actor,
                body=data["body"],
                status=data["status"],
                expected_version=data.get("version"),
            )
        elif data["kind"] == CaseMessage.Kind.REPLY:
            message = services.case_reply(
                case=case,
                actor=actor,
                body=data["body"],
                expected_version=data.get("version"),
            )
        else:
            message = services.case_add_note(case=case, actor=actor, body=data["body"])
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _case_detail_response(request, reference: str):
    return _case_detail(request, selectors.case_for_user(request.user, reference))


def _case_detail(request, case: SupportCase, status_code: int = 200):
    messages = selectors.case_messages_for_user(case, request.user)
    data = CaseDetailSerializer(case, context={"messages": messages}).data
    return conditional_response(request, data, status=status_code)


def _filter_cases(cases, filters: dict, user):
    if (wanted := filters.get("status")) == "active":
        cases = cases.filter(status__in=SupportCase.ACTIVE_STATUSES)
    elif wanted:
        cases = cases.filter(status=wanted)
    if "team" in filters:
        cases = cases.filter(team__slug=filters["team"])
    if "priority" in filters:
        cases = cases.filter(priority=filters["priority"])
    if "updated_since" in filters:
        cases = cases.filter(updated_at__gte=filters["updated_since"])
    assignee = filters.get("assignee")
    if assignee == "unassigned":
        cases = cases.filter(assignee__isnull=True)
    elif assignee:
        cases = cases.filter(assignee=_assignee(assignee, user, field="assignee"))
    return cases


def _team(slug: str | None) -> Team | None:
    if not slug:
        return None
    team = Team.objects.filter(slug=slug).first()
    if team is None:
        raise ValidationError({"team": [f"No team has the slug {slug!r}."]})
    return team


def _assignee(value: str | None, user, field: str = "assignee") -> Agent | None:
    """Return the agent named by ``me`` or a username, None for null."""
    if value is None:
        return None
    if value == "me":
        agent = getattr(user, "agent", None)
        if agent is None:
            raise ValidationError(
                {field: ['Only agents can use "me". Send an agent\'s username.']}
            )
        return agent
    agent = Agent.objects.filter(user__username=value).first()
    if agent is None:
        raise ValidationError({field: [f"No agent has the username {value!r}."]})
    return agent
