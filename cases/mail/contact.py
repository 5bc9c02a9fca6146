"""The public contact form for questions that are not refunds."""

from __future__ import annotations

import logging

from django import forms
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods

from cases.audit import Actor
from cases.mail.inbound import customer_for_email, receipt_queue
from cases.models import CaseMessage, Order, SupportCase
from cases.services import case_create
from cases.shopify_export import order_number_key
from supportdesk.forms import SingleLineField, SubmissionKeyForm
from supportdesk.htmx import render_page
from supportdesk.ratelimits import over_limit
from supportdesk.submissions import create_once

logger = logging.getLogger(__name__)

MAX_CONTACT_MESSAGE_LENGTH = 5000
SENT_SESSION_KEY = "contact_case"


class ContactForm(SubmissionKeyForm):
    name = SingleLineField(
        noun="name",
        label="Your name",
        max_length=200,
        error_messages={"required": "Enter your name."},
    )
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        help_text="We answer to this address.",
        error_messages={
            "required": "Enter your email address.",
            "invalid": "Enter an email address in the form name@example.com.",
        },
    )
    order_number = SingleLineField(
        noun="order number",
        label="Order number",
        max_length=64,
        required=False,
        help_text="If your question is about an order, for example #1001.",
    )
    subject = SingleLineField(
        noun="subject",
        label="Subject",
        max_length=200,
        error_messages={"required": "Enter a subject."},
    )
    message = forms.CharField(
        label="Your message",
        max_length=MAX_CONTACT_MESSAGE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 7}),
        help_text=f"Up to {MAX_CONTACT_MESSAGE_LENGTH:,} characters.",
        error_messages={
            "required": "Write your message.",
            "max_length": "Shorten the message to at most %(limit_value)s "
            "characters (it has %(show_value)s).",
        },
    )


def contact_case_create(
    *,
    name: str,
    email: str,
    subject: str,
    body: str,
    order_number: str = "",
    submission_key: str | None = None,
) -> SupportCase:
    """Open a case from the contact form and queue the receipt email.

    The order is linked only when its number and email address both match,
    so the form cannot attach someone else's order. A ``submission_key``
    already used returns the case it opened, so a double click opens one
    case and sends one receipt.
    """

    def create() -> SupportCase:
        customer = customer_for_email(email, name)
        order = None
        if order_number_key(order_number):
            order = Order.objects.filter(
                number_key=order_number_key(order_number), email_key=email.lower()
            ).first()
        case = case_create(
            actor=Actor.customer(name or email),
            subject=subject,
            channel=SupportCase.Channel.CONTACT_FORM,
            body=body,
            customer=customer,
            order=order,
            author_name=name,
            submission_key=submission_key,
        )
        if order_number_key(order_number) and order is None:
            # Shown to agents only, because saying that no order matched
            # would let anyone test which order numbers belong to an address.
            CaseMessage.objects.create(
                case=case,
                kind=CaseMessage.Kind.NOTE,
                author_name="Contact form",
                body=f"The customer gave the order number {order_number}, but "
                f"no order with that number has the address {email}.",
            )
        receipt_queue(case=case, address=email)
        return case

    with transaction.atomic():
        case, _ = create_once(
            SupportCase,
            submission_key,
            create,
            in_scope=lambda existing: _same_sender(existing, email),
            out_of_scope="This form was already sent from another address. Reload "
            "the page and send it again.",
        )
    return case


def _same_sender(case: SupportCase, email: str) -> bool:
    return case.customer is not None and case.customer.email.lower() == email.lower()


@require_http_methods(["GET", "POST"])
def contact(request: HttpRequest) -> HttpResponse:
    """Open a case from the contact form; only new, valid messages count.

    A repeat of a message already sent (the same submission key) goes to
    the sent page before the rate limit is counted.
    """
    form = ContactForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            status = 422
        else:
            data = form.cleaned_data
            case = contact_case_already_sent(data["submission_key"], data["email"])
            if case is None and over_limit(
                request,
                "contact-form",
                email=data["email"],
                ip_rate="10/h",
                email_rate="5/h",
            ):
                form.add_error(
                    None,
                    "Too many messages from this browser or this email address. "
                    "Wait an hour and try again, or write to us by email.",
                )
                status = 429
            else:
                case = case or contact_case_create(
                    name=data["name"],
                    email=data["email"],
                    subject=data["subject"],
                    body=data["message"],
                    order_number=data["order_number"],
                    submission_key=data["submission_key"],
                )
                request.session[SENT_SESSION_KEY] = case.reference
                return redirect("mail:contact-sent")
    return render_page(
        request, "cases/contact_form.html", {"form": form}, status=status
    )


def contact_case_already_sent(submission_key: str, email: str) -> SupportCase | None:
    """Return the case that this form's submission key opened from ``email``.

    A key used from another address returns None, so contact_case_create
    then rejects it without revealing the other case.
    """
    case = (
        SupportCase.objects.select_related("customer")
        .filter(submission_key=submission_key)
        .first()
    )
    if case is None or not _same_sender(case, email):
        return None
    return case


@require_GET
def contact_sent(request: HttpRequest) -> HttpResponse:
    reference = request.session.get(SENT_SESSION_KEY)
    if not reference:
        return redirect("mail:contact")
    return render_page(request, "cases/contact_sent.html", {"reference": reference})
