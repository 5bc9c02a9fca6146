"""Template filters for money, dates and SLA states on Supportdesk pages."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django import template
from django.utils import timezone

from cases.queue import BREACHING_SOON
from supportdesk.bidi_display import show_bidi_controls
from supportdesk.money import Money

register = template.Library()


@register.filter
def money(minor: int | None, currency: str) -> str:
    """Format ``minor`` units of ``currency``, such as 1250|money:"EUR"."""
    if minor is None:
        return ""
    return Money(int(minor), currency).format()


@register.filter(is_safe=True)
def bidi_visible(text) -> str:
    """Escape customer text and show its bidi controls as markers.

    Use it before linebreaksbr on multi-line text shown to staff, such as
    {{ message.body|bidi_visible|linebreaksbr }}.
    """
    if text is None:
        return ""
    return show_bidi_controls(str(text))


@register.filter
def get_item(mapping: dict, key):
    """Return ``mapping[key]``, or None when it is missing."""
    return mapping.get(key) if mapping else None


@dataclass(frozen=True)
class SlaState:
    """A case's state against its next SLA target, for the queue and case page."""

    state: str  # "breached", "soon", "ok", "paused" or "none"
    text: str
    due_at: datetime | None = None


@register.filter
def sla_state(case) -> SlaState:
    """Describe ``case``'s next due time: "Overdue by 2 h", "Due in 40 min"."""
    if case.sla_due_at is None:
        if case.sla_paused_at is not None and case.status in ("pending", "solved"):
            return SlaState("paused", "Paused")
        return SlaState("none", "No target")
    left = case.sla_due_at - timezone.now()
    if left.total_seconds() < 0:
        return SlaState("breached", f"Overdue by {_span(-left)}", case.sla_due_at)
    state = "soon" if left <= BREACHING_SOON else "ok"
    return SlaState(state, f"Due in {_span(left)}", case.sla_due_at)


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 1)} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} days"


@register.filter
def percent(value: Decimal | None) -> str:
    """Format a 0-1 ratio as a percentage with one decimal, such as 12.5 %."""
    if value is None:
        return "—"
    return f"{(value * 100).quantize(Decimal('0.1'))} %"


@register.filter
def event_text(event) -> str:
    """Describe an audit event in words, such as "changed the status: …"."""
    from cases.audit import describe_event

    return describe_event(event)
