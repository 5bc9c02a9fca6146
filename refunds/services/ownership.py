"""Proof of ownership: a one-time code emailed to the order's address.

When the policy requires it, a customer who found an order by number and
email must also enter a six-digit code sent to that address before the
refund form opens. The views rate-limit starts and attempts per IP and per
address; each code also allows MAX_ATTEMPTS tries and expires after
CODE_VALIDITY.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from cases.models import Order
from refunds.models import OwnershipChallenge
from refunds.services.notifications import email_queue
from supportdesk.errors import DomainError

logger = logging.getLogger(__name__)

CODE_DIGITS = 6
CODE_VALIDITY = timedelta(minutes=15)
MAX_ATTEMPTS = 5


class CodeInvalid(DomainError):
    """The code is wrong, expired or used up."""

    code = "ownership_code_invalid"


def _code_hash(challenge_order_id: int, code: str) -> str:
    return salted_hmac(
        "refunds.ownership", f"{challenge_order_id}:{code}", algorithm="sha256"
    ).hexdigest()


def ownership_challenge_start(*, order: Order) -> OwnershipChallenge:
    """Create a code for ``order`` and queue the email that carries it."""
    if not order.email:
        raise DomainError(
            "This order has no email address to send a code to. Please contact us."
        )
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    now = timezone.now()
    with transaction.atomic():
        challenge = OwnershipChallenge.objects.create(
            order=order,
            code_hash=_code_hash(order.pk, code),
            created_at=now,
            expires_at=now + CODE_VALIDITY,
        )
        email_queue(
            template="refunds/email/ownership_code",
            context={
                "order": order,
                "code": code,
                "customer_name": order.customer_name,
                "shop_name": settings.SHOP_NAME,
                "valid_minutes": int(CODE_VALIDITY.total_seconds() // 60),
            },
            recipient=order.email,
            event_type="refund.ownership_code",
        )
    logger.info(
        "Ownership code sent for order %s",
        order.number,
        extra={"challenge": challenge.pk},
    )
    return challenge


def ownership_challenge_verify(
    *, challenge: OwnershipChallenge, code: str
) -> OwnershipChallenge:
    """Check ``code`` against the challenge; raise CodeInvalid if it fails.

    Every wrong code uses up one of MAX_ATTEMPTS tries. A verified challenge
    stays verified, so the same code entered twice passes twice.
    """
    code = "".join(code.split())
    with transaction.atomic():
        challenge = OwnershipChallenge.objects.select_for_update().get(pk=challenge.pk)
        if challenge.verified_at is not None and constant_time_compare(
            challenge.code_hash, _code_hash(challenge.order_id, code)
        ):
            return challenge
        if timezone.now() >= challenge.expires_at:
            raise CodeInvalid(
                "This code has expired. Ask for a new code.", field="code"
            )
        if challenge.attempts >= MAX_ATTEMPTS:
            raise CodeInvalid("Too many wrong codes. Ask for a new code.", field="code")
        challenge.attempts += 1
        matches = constant_time_compare(
            challenge.code_hash, _code_hash(challenge.order_id, code)
        )
        if matches:
            challenge.verified_at = timezone.now()
        challenge.save(update_fields=["attempts", "verified_at"])
    if not matches:
        left = MAX_ATTEMPTS - challenge.attempts
        raise CodeInvalid(
            f"That code is not right. Check the email and try again ({left} "
            f"{'try' if left == 1 else 'tries'} left).",
            field="code",
        )
    return challenge
