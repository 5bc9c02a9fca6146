"""The supervisors' admin for refunds, one module per concern."""

from refunds.admin import catalog, outbox, policy, reconciliation, requests

__all__ = ["catalog", "outbox", "policy", "reconciliation", "requests"]
