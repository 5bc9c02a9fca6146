"""Public refund pages for customers: lookup, request, live check and status."""

from __future__ import annotations

import time

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods, require_POST

from cases.audit import Actor
from cases.models import Order
from cases.services import case_add_customer_message
from refunds import selectors, services
from refunds.eligibility import line_blocker
from refunds.forms import (
    CustomerMessageForm,
    OrderLookupForm,
    OwnershipCodeForm,
    RefundRequestForm,
)
from refunds.models import OwnershipChallenge
from refunds.services.ownership import (
    ownership_challenge_start,
    ownership_challenge_verify,
)
from refunds.timeline import public_timeline
from supportdesk.errors import DomainError
from supportdesk.htmx import HtmxHttpRequest, render_page
from supportdesk.ratelimits import over_limit

# Orders a browser has looked up stay open for this many seconds.
LOOKUP_TTL_SECONDS = 2 * 60 * 60
LOOKUP_SESSION_KEY = "refund_orders"
# Order id to the id of the ownership code sent to this browser.
CHALLENGE_SESSION_KEY = "refund_challenges"
LOOKUP_FAILED = (
    "We could not find an order with that number and email address. Check both "
    "and try again."
)


def _remember_order(request: HttpRequest, order: Order) -> None:
    orders = request.session.get(LOOKUP_SESSION_KEY, {})
    now = time.time()
    orders = {key: expiry for key, expiry in orders.items() if expiry > now}
    orders[str(order.pk)] = now + LOOKUP_TTL_SECONDS
    request.session[LOOKUP_SESSION_KEY] = orders


def _looked_up_order(request: HttpRequest, order_id: int) -> Order:
    """Return the order if this browser looked it up recently, else 404."""
    expiry = request.session.get(LOOKUP_SESSION_KEY, {}).get(str(order_id))
    if expiry is None or expiry < time.time():
        raise Http404("Look the order up again.")
    order = Order.objects.select_related("customer").filter(pk=order_id).first()
    if order is None:
        raise Http404("No such order.")
    return order


@require_http_methods(["GET", "POST"])
def refund_start(request: HttpRequest) -> HttpResponse:
    form = OrderLookupForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if over_limit(
            request,
            "refund-lookup",
            email=request.POST.get("email", ""),
            ip_rate="20/10m",
            email_rate="10/10m",
        ):
            form.add_error(
                None,
                "Too many lookups from this browser or for this email address. Wait "
                "ten minutes and try again.",
            )
            status = 429
        elif form.is_valid():
            order = selectors.order_for_customer(
                form.cleaned_data["order_number"], form.cleaned_data["email"]
            )
            if order is not None and selectors.active_policy().require_ownership_proof:
                return _send_code(request, order)
            if order is not None:
                _remember_order(request, order)
                return redirect("refunds:order", order_id=order.pk)
            form.add_error(None, LOOKUP_FAILED)
            status = 422
        else:
            status = 422
    context = {"form": form, "policy": selectors.active_policy()}
    return render_page(request, "refunds/refund_start.html", context, status=status)


def _order_page(request, order, form, *, decision=None, status=200, partial=None):
    policy = selectors.active_policy()
    blockers = {}
    for line in form.lines:
        blocker = line_blocker(line, policy)
        if blocker is not None:
            blockers[line.pk] = blocker.customer_message.removeprefix(f"{line.name}: ")
    context = {
        "order": order,
        "form": form,
        "decision": decision,
        "policy": policy,
        "preview": services.refund_preview(order=order, selection={}),
        "line_blockers": blockers,
        "has_refundable": any(
            line.quantity_refundable > 0 and line.pk not in blockers
            for line in form.lines
        ),
    }
    return render_page(
        request, "refunds/refund_order.html", context, partial=partial, status=status
    )


@require_http_methods(["GET"])
def refund_order(request: HttpRequest, order_id: int) -> HttpResponse:
    order = _looked_up_order(request, order_id)
    form = RefundRequestForm(lines=selectors.order_lines(order))
    return _order_page(request, order, form)


@require_POST
def refund_check(request: HttpRequest, order_id: int) -> HttpResponse:
    """Evaluate the chosen items before submitting; htmx swaps the result in."""
    order = _looked_up_order(request, order_id)
    form = RefundRequestForm(request.POST, lines=selectors.order_lines(order))
    form.is_valid()
    quantity_errors = any(name.startswith("qty-") for name in form.errors)
    decision = None
    if not quantity_errors:
        decision = services.refund_preview(order=order, selection=form.selection())
    return _order_page(
        request,
        order,
        form,
        decision=decision,
        status=422 if quantity_errors else 200,
        partial="eligibility",
    )


@require_POST
def refund_submit(request: HttpRequest, order_id: int) -> HttpResponse:
    order = _looked_up_order(request, order_id)
    form = RefundRequestForm(request.POST, lines=selectors.order_lines(order))
    if not form.is_valid():
        decision = None
        if not any(name.startswith("qty-") for name in form.errors):
            decision = services.refund_preview(order=order, selection=form.selection())
        return _order_page(request, order, form, decision=decision, status=422)
    try:
        refund = services.refund_request_create(
            order=order,
            selection=form.selection(),
            reason_code=form.cleaned_data["reason_code"],
            reason_text=form.cleaned_data["reason_text"],
            actor=Actor.customer(order.customer_name or order.email),
            submission_key=form.cleaned_data["submission_key"],
        )
    except services.NotEligible as exc:
        return _order_page(request, order, form, decision=exc.decision, status=422)
    except DomainError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return _order_page(request, order, form, status=422)
    return redirect("refunds:status", token=refund.token)


@require_http_methods(["GET"])
def refund_status(request: HttpRequest, token: str) -> HttpResponse:
    refund = selectors.refund_by_token(token)
    if refund is None:
        raise Http404("No refund request has this link.")
    return _status_page(request, refund, CustomerMessageForm())


def _status_page(request, refund, form, status=200):
    context = {
        "refund": refund,
        "timeline": public_timeline(refund),
        "message_form": form,
        "can_write": refund.case is not None and refund.case.status != "closed",
        "return_instructions": selectors.return_instructions(refund),
        "items_instructions": selectors.items_instructions(refund),
    }
    return render_page(
        request,
        "refunds/refund_status.html",
        context,
        partial="timeline",
        status=status,
    )


@require_POST
def refund_status_message(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """Let the customer add a message to the case behind the request."""
    refund = selectors.refund_by_token(token)
    if refund is None or refund.case is None:
        raise Http404("No refund request has this link.")
    form = CustomerMessageForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            case_add_customer_message(
                case=refund.case,
                actor=Actor.customer(refund.order.customer_name or refund.order.email),
                body=form.cleaned_data["body"],
                submission_key=form.cleaned_data["submission_key"],
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            status = exc.status_code if exc.status_code != 400 else 422
        else:
            if request.htmx:
                return _status_page(request, refund, CustomerMessageForm())
            return redirect("refunds:status", token=refund.token)
    return _status_page(request, refund, form, status=status)


def _send_code(request: HttpRequest, order: Order) -> HttpResponse:
    try:
        challenge = ownership_challenge_start(order=order)
    except DomainError as exc:
        form = OrderLookupForm()
        form.add_error(None, exc.message)
        context = {"form": form, "policy": selectors.active_policy()}
        return render_page(request, "refunds/refund_start.html", context, status=422)
    challenges = request.session.get(CHALLENGE_SESSION_KEY, {})
    challenges[str(order.pk)] = challenge.pk
    request.session[CHALLENGE_SESSION_KEY] = challenges
    return redirect("refunds:verify", order_id=order.pk)


def _challenge_for(request: HttpRequest, order_id: int) -> OwnershipChallenge:
    """Return the code this browser was sent for the order, else 404."""
    challenge_id = request.session.get(CHALLENGE_SESSION_KEY, {}).get(str(order_id))
    challenge = (
        OwnershipChallenge.objects.select_related("order")
        .filter(pk=challenge_id, order_id=order_id)
        .first()
        if challenge_id
        else None
    )
    if challenge is None:
        raise Http404("Look the order up again.")
    return challenge


def _code_limited(request: HttpRequest, order: Order, group: str, rate: str) -> bool:
    """Count one code action per IP and per order address; True when over."""
    address = order.email_key or str(order.pk)
    return over_limit(request, group, email=address, ip_rate=rate, email_rate=rate)


@require_http_methods(["GET", "POST"])
def refund_verify(request: HttpRequest, order_id: int) -> HttpResponse:
    """Ask for the emailed code; a right code opens the order's refund form."""
    challenge = _challenge_for(request, order_id)
    form = OwnershipCodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if _code_limited(request, challenge.order, "refund-code", "10/10m"):
            form.add_error(
                None,
                "Too many codes tried from this browser or for this order. Wait ten "
                "minutes and try again.",
            )
            status = 429
        elif form.is_valid():
            try:
                ownership_challenge_verify(
                    challenge=challenge, code=form.cleaned_data["code"]
                )
            except DomainError as exc:
                form.add_error("code", exc.message)
            else:
                _remember_order(request, challenge.order)
                return redirect("refunds:order", order_id=order_id)
    context = {"form": form, "order": challenge.order}
    return render_page(request, "refunds/refund_verify.html", context, status=status)


@require_POST
def refund_verify_resend(request: HttpRequest, order_id: int) -> HttpResponse:
    """Send a new code, replacing the one this browser was sent."""
    challenge = _challenge_for(request, order_id)
    if _code_limited(request, challenge.order, "refund-code-resend", "3/10m"):
        form = OwnershipCodeForm()
        form.add_error(
            None,
            "We already sent several codes for this order. Wait ten minutes before "
            "asking for another.",
        )
        context = {"form": form, "order": challenge.order}
        return render_page(request, "refunds/refund_verify.html", context, status=429)
    return _send_code(request, challenge.order)
