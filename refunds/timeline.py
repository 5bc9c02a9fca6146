"""The customer-facing history of a refund request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cases.audit import events_for
from cases.models import CaseMessage
from refunds.models import RefundRequest
from supportdesk.money import Money


@dataclass(frozen=True)
class TimelineEntry:
    when: datetime
    title: str
    body: str = ""
    kind: str = "event"  # "event", "customer" or "support"


def public_timeline(refund: RefundRequest) -> list[TimelineEntry]:
    """Return the decisions and public messages of ``refund``, oldest first.

    Internal notes and the agents' eligibility trace are never included.
    """
    event_entries = [_event_entry(event, refund) for event in events_for(refund)]
    entries = [entry for entry in event_entries if entry is not None]
    if refund.case is not None:
        messages = refund.case.messages.exclude(kind=CaseMessage.Kind.NOTE).order_by(
            "created_at", "id"
        )
        for message in messages:
            if message.kind == CaseMessage.Kind.CUSTOMER:
                entries.append(
                    TimelineEntry(
                        message.created_at, "You wrote", message.body, "customer"
                    )
                )
            else:
                entries.append(
                    TimelineEntry(
                        message.created_at,
                        f"{message.author_name} replied",
                        message.body,
                        "support",
                    )
                )
    return sorted(entries, key=lambda entry: entry.when)


def _event_entry(event, refund: RefundRequest) -> TimelineEntry | None:
    action = event.action
    if action == "refunds.refund.requested":
        return TimelineEntry(
            event.occurred_at, f"Request received for {refund.requested}"
        )
    if action == "refunds.refund.approved":
        amount = event.changes.get("amount") or str(
            Money(refund.approved_minor or 0, refund.currency)
        )
        title = f"Approved: {amount}"
        if event.changes.get("partial"):
            title += f" of the {refund.requested} requested"
        return TimelineEntry(event.occurred_at, title, event.reason)
    if action == "refunds.refund.rejected":
        return TimelineEntry(event.occurred_at, "Not approved", event.reason)
    if action == "refunds.refund.cancelled":
        return TimelineEntry(event.occurred_at, "Refund cancelled", event.reason)
    if action == "refunds.refund.refunded":
        return TimelineEntry(
            event.occurred_at,
            f"Refunded: {refund.approved}",
            "The money is on its way back to your original payment method.",
        )
    return None
