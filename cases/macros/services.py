"""Apply a macro to a case: its reply, then its status and tags, all or nothing."""

from __future__ import annotations

import logging

from django.db import transaction

from cases.audit import Actor, record_event
from cases.macros.models import Macro
from cases.macros.rendering import PlaceholderError, render_macro_text
from cases.models import SupportCase
from cases.services import case_change_status, case_reply
from cases.tagging import case_tag_add
from supportdesk.errors import DomainError, PermissionDenied, StateConflict

logger = logging.getLogger(__name__)


def macro_preview(*, case: SupportCase, actor: Actor, macro: Macro) -> str:
    """Return the macro's reply filled in for ``case``; DomainError if it cannot be."""
    agent = actor.agent
    if agent is None:
        raise PermissionDenied("Only agents can use macros.")
    try:
        return render_macro_text(macro.body, case=case, agent=agent)
    except PlaceholderError as exc:
        raise DomainError(exc.message, field="body") from None


def macro_apply(
    *,
    case: SupportCase,
    actor: Actor,
    macro: Macro,
    body: str | None = None,
    expected_version: int | None = None,
) -> SupportCase:
    """Send the macro's reply and set its status and tags in one transaction.

    ``body`` is the reply as the agent edited it after the preview; None
    sends the macro's text as rendered now. An empty reply sends nothing. If
    any step fails (a stale case, a status the case cannot move to), nothing
    is kept, the reply included.
    """
    if not macro.is_active:
        raise StateConflict(f"The macro {macro.name!r} is no longer active.")
    text = macro_preview(case=case, actor=actor, macro=macro) if body is None else body
    with transaction.atomic():
        if text.strip():
            case_reply(
                case=case, actor=actor, body=text, expected_version=expected_version
            )
        elif expected_version is not None:
            current = SupportCase.objects.select_for_update().get(pk=case.pk)
            if current.version != expected_version:
                raise StateConflict(
                    "This case changed while you were working on it. Review it, "
                    "then apply the macro again."
                )
        if macro.set_status:
            case = case_change_status(
                case=case,
                actor=actor,
                status=macro.set_status,
                reason=f"Macro {macro.name}",
            )
        for name in macro.tag_list:
            case_tag_add(case=case, actor=actor, name=name)
        record_event(
            action="cases.macro.applied",
            actor=actor,
            target=macro,
            case=case,
            changes={
                "macro": macro.name,
                "replied": bool(text.strip()),
                "status": macro.set_status or None,
                "tags": macro.tag_list,
            },
        )
    logger.info(
        "Macro %s applied to case %s",
        macro.pk,
        case.reference,
        extra={"macro": macro.pk, "case": case.reference},
    )
    return case
