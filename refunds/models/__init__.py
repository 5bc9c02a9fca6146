"""Models of the refunds app, one module per concern."""

from refunds.models.catalog import CatalogVariant
from refunds.models.idempotency import IdempotencyRecord
from refunds.models.outbox import DeadLetter, OutboxMessage, WebhookEndpoint
from refunds.models.ownership import OwnershipChallenge
from refunds.models.policy import RefundPolicy
from refunds.models.reconciliation import ReconciliationFlag
from refunds.models.refund import (
    AwaitingSupervisor,
    RefundAttempt,
    RefundDecision,
    RefundLine,
    RefundRequest,
    format_refund_reference,
    new_status_token,
    parse_refund_reference,
)

__all__ = [
    "AwaitingSupervisor",
    "CatalogVariant",
    "DeadLetter",
    "IdempotencyRecord",
    "OutboxMessage",
    "OwnershipChallenge",
    "ReconciliationFlag",
    "RefundAttempt",
    "RefundDecision",
    "RefundLine",
    "RefundPolicy",
    "RefundRequest",
    "WebhookEndpoint",
    "format_refund_reference",
    "new_status_token",
    "parse_refund_reference",
]
