"""Fill a macro's placeholders with the values of a case.

Placeholders are plain ``{name}`` or ``{name|fallback}`` substitutions, not
Django template syntax, so a macro written in the admin cannot reach any
attribute beyond the listed values.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from agents.models import Agent
from cases.models import SupportCase
from refunds.models import RefundRequest

_PLACEHOLDER = re.compile(r"\{([a-z_]+)(?:\|([^{}]*))?\}")


class PlaceholderError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _customer_name(case: SupportCase, agent: Agent) -> str:
    if case.customer is not None and case.customer.name:
        return case.customer.name
    return case.order.customer_name if case.order is not None else ""


def _order_number(case: SupportCase, agent: Agent) -> str:
    return case.order.number if case.order is not None else ""


def _refund_amount(case: SupportCase, agent: Agent) -> str:
    refund = RefundRequest.objects.filter(case=case).order_by("-created_at").first()
    if refund is None:
        return ""
    return (refund.approved or refund.requested).format()


PLACEHOLDERS: dict[str, Callable[[SupportCase, Agent], str]] = {
    "customer_name": _customer_name,
    "order_number": _order_number,
    "refund_amount": _refund_amount,
    "case_reference": lambda case, agent: case.reference,
    "agent_name": lambda case, agent: agent.display_name,
}


def check_template(text: str) -> None:
    """Raise PlaceholderError naming an unknown or unclosed placeholder."""
    for match in _PLACEHOLDER.finditer(text):
        if match.group(1) not in PLACEHOLDERS:
            raise PlaceholderError(
                f"{{{match.group(1)}}} is not a placeholder. Use one of: "
                + ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
                + "."
            )
    leftover = _PLACEHOLDER.sub("", text)
    if "{" in leftover or "}" in leftover:
        raise PlaceholderError(
            "A brace is not part of a placeholder. Write placeholders as "
            "{customer_name} or {customer_name|fallback}, without spaces."
        )


def render_macro_text(text: str, *, case: SupportCase, agent: Agent) -> str:
    """Return ``text`` with its placeholders filled in for ``case``.

    Raises PlaceholderError when the case lacks a value and the placeholder
    has no fallback, such as {refund_amount} on a case without a refund.
    """
    check_template(text)
    missing: list[str] = []

    def fill(match: re.Match) -> str:
        name, fallback = match.group(1), match.group(2)
        value = PLACEHOLDERS[name](case, agent)
        if value:
            return value
        if fallback is not None:
            return fallback
        missing.append(name.replace("_", " "))
        return ""

    filled = _PLACEHOLDER.sub(fill, text)
    if missing:
        raise PlaceholderError(
            f"Case {case.reference} has no {' and no '.join(missing)}, and the "
            "macro gives no fallback. Choose another macro or write the reply "
            "yourself."
        )
    return filled
