"""Customer emails about a refund request, written to the outbox.

Each event has three templates under ``templates/refunds/email/``: the
subject, the plain-text body and the HTML body. Their wording matches the
status page's timeline for the same event.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from refunds import selectors
from refunds.models import OutboxMessage, RefundRequest
from refunds.services.outbox import outbox_write_email

logger = logging.getLogger(__name__)

CUSTOMER_EVENTS = ("received", "approved", "rejected", "refunded", "cancelled")


def notify_customer(
    *, refund: RefundRequest, event: str, reason: str = ""
) -> OutboxMessage | None:
    """Queue the email for ``event`` to the order's address.

    Returns None, and queues nothing, when the order has no email address.
    """
    if event not in CUSTOMER_EVENTS:
        raise ValueError(f"Unknown customer email event {event!r}.")
    order = refund.order
    if not order.email:
        logger.info(
            "No email for refund %s %s: the order has no address",
            refund.reference,
            event,
            extra={"refund": refund.reference},
        )
        return None
    status_path = reverse("refunds:status", kwargs={"token": refund.token})
    context = {
        "refund": refund,
        "order": order,
        "reason": reason,
        "customer_name": order.customer_name,
        "shop_name": settings.SHOP_NAME,
        "status_url": f"{settings.SITE_URL}{status_path}",
        "return_instructions": selectors.return_instructions(refund),
        "items_instructions": selectors.items_instructions(refund),
    }
    return email_queue(
        template=f"refunds/email/refund_{event}",
        context=context,
        recipient=order.email,
        event_type=f"refund.{event}",
        refund=refund,
    )


def email_queue(
    *,
    template: str,
    context: dict,
    recipient: str,
    event_type: str,
    refund: RefundRequest | None = None,
) -> OutboxMessage:
    """Render ``template``'s subject, text and HTML files and queue the email."""
    return outbox_write_email(
        refund=refund,
        event_type=event_type,
        recipient=recipient,
        subject=render_to_string(f"{template}_subject.txt", context).strip(),
        body_text=render_to_string(f"{template}.txt", context),
        body_html=render_to_string(f"{template}.html", context),
    )
