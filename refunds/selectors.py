"""Reads for refunds: the active policy, order lookups and customer history."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypedDict

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.http import Http404

from agents.roles import Role, role_of
from cases.models import Customer, Order, OrderLine
from cases.selectors import cases_visible_to
from cases.shopify_export import order_number_key
from refunds.eligibility import CustomerHistory
from refunds.models import (
    CatalogVariant,
    RefundDecision,
    RefundPolicy,
    RefundRequest,
    parse_refund_reference,
)
from refunds.models.policy import DEFAULT_RETURN_INSTRUCTIONS, PolicyMisconfigured
from supportdesk.money import to_minor

if TYPE_CHECKING:
    # Only in the type stubs (requirements-dev.txt), not needed at run time.
    from django_stubs_ext import WithAnnotations

logger = logging.getLogger(__name__)
# (policy id, updated_at) pairs already logged as misconfigured, so a broken
# policy is logged once per process and not on every request.
_logged_misconfigured: set[tuple[int, object]] = set()


def active_policy() -> RefundPolicy:
    """Load and check the active policy, or the defaults when none is saved yet.

    Raises PolicyMisconfigured when the stored policy has an unusable value,
    such as a time zone or a return window saved before the admin checked it.
    The error is logged once per policy version and process.
    """
    policy = stored_active_policy()
    problems = policy.configuration_errors()
    if problems:
        key = (policy.pk, policy.updated_at)
        if key not in _logged_misconfigured:
            _logged_misconfigured.add(key)
            logger.error(
                "Refund policy %s is misconfigured: %s",
                policy.pk,
                " ".join(problems),
                extra={"policy": policy.pk},
            )
        raise PolicyMisconfigured
    return policy


def stored_active_policy() -> RefundPolicy:
    """Return the active policy as stored, without checking its values."""
    policy = RefundPolicy.objects.filter(is_active=True).first()
    if policy is None:
        policy = RefundPolicy(name="Default policy", currency=settings.SHOP_CURRENCY)
    return policy


def return_instructions(refund: RefundRequest) -> str:
    """Return the policy's next steps while the request awaits a decision.

    Reads the stored policy without checking it, so a misconfigured time zone
    or currency does not hide a request's status from its customer.
    """
    if refund.status != RefundRequest.Status.REQUESTED:
        return ""
    return stored_active_policy().return_instructions.strip()


def items_instructions(refund: RefundRequest) -> str:
    """Return the instructions for the items of an approved refund.

    Returns "" for other statuses and for an order that the shop has not sent
    yet, since the customer then has no items. The policy's default text is
    written for a request that awaits a decision, so it is replaced by its own
    rule about sending items back. A shop's own text is shown as written.
    """
    if refund.status != RefundRequest.Status.APPROVED:
        return ""
    if refund.order.fulfillment_status == Order.FulfillmentStatus.UNFULFILLED:
        return ""
    instructions = stored_active_policy().return_instructions.strip()
    if instructions == DEFAULT_RETURN_INSTRUCTIONS:
        return "You do not need to send the items back unless we ask you to."
    # NOTE: a shop's own text may also mention the coming decision, because
    # the policy field has one text for before and after the decision.
    return instructions


def order_for_customer(number: str, email: str) -> Order | None:
    """Return the order with this number and email, ignoring case and '#'.

    Returns None when either does not match, so a caller cannot tell which.
    """
    number_key = order_number_key(number)
    email_key = email.strip().lower()
    if not number_key or not email_key:
        return None
    return Order.objects.filter(number_key=number_key, email_key=email_key).first()


def order_lines(order: Order) -> list[OrderLine]:
    return list(order.lines.order_by("position"))


def product_types_for(lines: list[OrderLine]) -> dict[str, str]:
    """Return the catalog's product type of each line's SKU, where known."""
    skus = {line.sku for line in lines if line.sku}
    if not skus:
        return {}
    return dict(
        CatalogVariant.objects.filter(sku__in=skus)
        .exclude(product_type="")
        .values_list("sku", "product_type")
    )


def awaiting_supervisor(policy: RefundPolicy | None = None):
    """Return the undecided requests that only a supervisor can approve in full.

    These are requests that the eligibility check sent to a supervisor and
    requests above the policy's supervisor threshold. They also include
    requests in a currency other than the policy's and requests that an agent
    sent to a supervisor.
    """
    policy = policy or active_policy()
    threshold = to_minor(policy.supervisor_threshold, policy.currency)
    escalated = RefundDecision.objects.filter(
        refund=OuterRef("pk"), kind=RefundDecision.Kind.ESCALATED
    )
    return RefundRequest.objects.filter(status=RefundRequest.Status.REQUESTED).filter(
        Q(outcome=RefundRequest.Outcome.NEEDS_SUPERVISOR)
        | Q(currency=policy.currency, requested_minor__gt=threshold)
        | ~Q(currency=policy.currency)
        | Q(Exists(escalated))
    )


class Recommendation(TypedDict):
    """Annotations that latest_escalation adds, each None when not escalated."""

    recommended_minor: int | None
    recommended_by: str | None
    recommendation_note: str | None


def latest_escalation(
    refunds: QuerySet[RefundRequest],
) -> QuerySet[WithAnnotations[RefundRequest, Recommendation]]:
    """Annotate each refund with its agent's recommendation, if it was escalated.

    The annotations are ``recommended_minor``, ``recommended_by`` and
    ``recommendation_note``, from the latest escalation.
    """
    escalations = RefundDecision.objects.filter(
        refund=OuterRef("pk"), kind=RefundDecision.Kind.ESCALATED
    ).order_by("-created_at", "-id")
    return refunds.annotate(
        recommended_minor=Subquery(escalations.values("amount_minor")[:1]),
        recommended_by=Subquery(escalations.values("actor_name")[:1]),
        recommendation_note=Subquery(escalations.values("reason")[:1]),
    )


def open_requested_minor(order: Order) -> int:
    """Return what the order's undecided requests ask for."""
    total = RefundRequest.objects.filter(
        order=order, status=RefundRequest.Status.REQUESTED
    ).aggregate(total=Sum("requested_minor"))["total"]
    return total or 0


def shipping_requested(order: Order) -> bool:
    return RefundRequest.objects.filter(
        order=order, status__in=RefundRequest.HOLDING_STATUSES, shipping_minor__gt=0
    ).exists()


def customer_history(
    customer: Customer | None,
    policy: RefundPolicy,
    now: datetime,
    *,
    exclude: int | None = None,
) -> CustomerHistory:
    """Return the customer's refund requests and refunded share over the period.

    The period ends at ``now``, so a policy preview replaying an old request
    does not count the requests made after it.
    """
    if customer is None:
        return CustomerHistory()
    try:
        since = now - timedelta(days=policy.abuse_period_days)
    except OverflowError:
        logger.error(
            "Refund policy %s: an abuse period of %s days before %s is out of "
            "the date range.",
            policy.pk,
            policy.abuse_period_days,
            now,
            extra={"policy": policy.pk},
        )
        raise PolicyMisconfigured from None
    requests = RefundRequest.objects.filter(
        customer=customer, created_at__gte=since, created_at__lte=now
    )
    if exclude is not None:
        requests = requests.exclude(pk=exclude)
    refunded = requests.filter(status__in=RefundRequest.COMMITTED_STATUSES).aggregate(
        total=Sum("approved_minor")
    )["total"]
    paid = (
        Order.objects.filter(customer=customer)
        .filter(Q(placed_at__gte=since) | Q(placed_at__isnull=True))
        .aggregate(total=Sum("paid_minor"))["total"]
    )
    return CustomerHistory(
        refund_requests=requests.count(),
        refunded_minor=refunded or 0,
        paid_minor=paid or 0,
    )


def refund_by_token(token: str) -> RefundRequest | None:
    if not token or len(token) > 64:
        return None
    return (
        RefundRequest.objects.select_related("order")
        .prefetch_related("lines__order_line")
        .filter(token=token)
        .first()
    )


def refunds_visible_to_user(user) -> QuerySet[RefundRequest]:
    """Return the refunds ``user`` may see: those of the cases it may see.

    Supervisors and integrations see every refund, including any without a
    case.
    """
    role = role_of(user)
    if role in (Role.SUPERVISOR, Role.INTEGRATION):
        return RefundRequest.objects.all()
    if role == Role.AGENT:
        return RefundRequest.objects.filter(case__in=cases_visible_to(user.agent))
    return RefundRequest.objects.none()


def refund_for_user(user, reference: str) -> RefundRequest:
    """Return the refund with ``reference`` if ``user`` may see it, else 404.

    A refund outside the user's scope gives the same 404 as an unknown one.
    """
    pk = parse_refund_reference(reference)
    refund = (
        refunds_visible_to_user(user)
        .select_related("order", "case", "requested_by", "decided_by")
        .prefetch_related("lines__order_line")
        .filter(pk=pk)
        .first()
        if pk
        else None
    )
    if refund is None:
        raise Http404("No such refund.")
    return refund
