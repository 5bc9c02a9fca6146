"""Every write to refunds, one module per concern, re-exported here.

Views, the admin, tasks, management commands and the API call these, so
every path passes the same checks.
"""

from refunds.services.decisions import (
    MAX_REASON_LENGTH,
    approval_level,
    check_can_approve,
    refund_approve,
    refund_cancel,
    refund_change_amount,
    refund_escalate,
    refund_mark_refunded,
    refund_record_shop_failure,
    refund_reject,
)
from refunds.services.requests import (
    NotEligible,
    refund_preview,
    refund_request_create,
)

__all__ = [
    "MAX_REASON_LENGTH",
    "NotEligible",
    "approval_level",
    "check_can_approve",
    "refund_approve",
    "refund_cancel",
    "refund_change_amount",
    "refund_escalate",
    "refund_mark_refunded",
    "refund_preview",
    "refund_record_shop_failure",
    "refund_reject",
    "refund_request_create",
]
