"""Bulk actions on the queue: assign, change status or tag many cases.

Each case goes through the same service as a single change, in its own
transaction, so one case that cannot change does not stop the others. The
outcome lists what failed and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agents.models import Agent
from cases import services
from cases.audit import Actor
from cases.models import SupportCase
from cases.selectors import cases_visible_to
from cases.tagging import case_tag_add, clean_tag_name
from supportdesk.errors import DomainError

MAX_BULK_CASES = 100
ACTIONS = ("assign", "status", "tag")


@dataclass
class BulkOutcome:
    changed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (reference, why)
    missing: int = 0  # ids that are not cases the agent can see


def cases_bulk_change(
    *,
    agent: Agent,
    actor: Actor,
    case_ids: list[int],
    action: str,
    assignee: Agent | None = None,
    take_over: bool = False,
    status: str = "",
    tag: str = "",
) -> BulkOutcome:
    """Apply ``action`` to each case of ``case_ids`` that ``agent`` can see."""
    if action not in ACTIONS:
        raise DomainError(f"{action!r} is not a bulk action.", field="action")
    if not case_ids:
        raise DomainError("Select at least one case.", field="case")
    if len(case_ids) > MAX_BULK_CASES:
        raise DomainError(
            f"{len(case_ids)} cases are selected; the maximum is {MAX_BULK_CASES}. "
            "Select fewer cases.",
            field="case",
        )
    if action == "status" and status not in SupportCase.Status.values:
        raise DomainError("Choose a status.", field="status")
    if action == "tag":
        clean_tag_name(tag)
    outcome = BulkOutcome()
    cases = list(cases_visible_to(agent).filter(pk__in=case_ids).order_by("pk"))
    outcome.missing = len(set(case_ids)) - len(cases)
    for case in cases:
        try:
            if action == "assign":
                services.case_assign(
                    case=case,
                    actor=actor,
                    assignee=assignee,
                    take_over=take_over,
                    reason="Bulk action",
                )
            elif action == "status":
                services.case_change_status(
                    case=case, actor=actor, status=status, reason="Bulk action"
                )
            else:
                case_tag_add(case=case, actor=actor, name=tag)
        except DomainError as exc:
            outcome.failed.append((case.reference, exc.message))
        else:
            outcome.changed.append(case.reference)
    return outcome
