"""Tags on cases: adding and removing them, creating a tag on first use."""

from __future__ import annotations

import logging
import unicodedata

from django.db import IntegrityError, transaction
from django.utils import timezone

from cases import counts
from cases.audit import Actor, record_event
from cases.models import SupportCase, Tag
from supportdesk.errors import DomainError, PermissionDenied, StateConflict

logger = logging.getLogger(__name__)

MAX_TAG_LENGTH = 50
MAX_TAGS_PER_CASE = 20


def clean_tag_name(name: str) -> str:
    """Return ``name`` in NFC with single spaces, or raise DomainError."""
    text = " ".join(unicodedata.normalize("NFC", name).split())
    if not text:
        raise DomainError("Type a tag name.", field="tag")
    if len(text) > MAX_TAG_LENGTH:
        raise DomainError(
            f"The tag {text[:20]!r}… is {len(text)} characters long; the maximum is "
            f"{MAX_TAG_LENGTH}.",
            field="tag",
        )
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise DomainError("A tag cannot contain control characters.", field="tag")
    return text


def tag_for_name(name: str) -> Tag:
    """Return the tag called ``name`` in any letter case, creating it if new."""
    text = clean_tag_name(name)
    tag = Tag.objects.filter(name__iexact=text).first()
    if tag is not None:
        return tag
    try:
        with transaction.atomic():
            return Tag.objects.create(name=text)
    except IntegrityError:
        # Another request created the same tag a moment ago.
        return Tag.objects.get(name__iexact=text)


def case_tag_add(*, case: SupportCase, actor: Actor, name: str) -> Tag:
    """Put the tag ``name`` on the case; adding a tag it has changes nothing.

    Tags leave the case's version alone, so a tag added by someone else
    never makes another agent's reply stale.
    """
    _require_agent(actor)
    tag = tag_for_name(name)
    with transaction.atomic():
        case = SupportCase.objects.select_for_update().get(pk=case.pk)
        current = set(case.tags.values_list("pk", flat=True))
        if tag.pk in current:
            return tag
        if len(current) >= MAX_TAGS_PER_CASE:
            raise StateConflict(
                f"This case has {len(current)} tags, the maximum. Remove one first."
            )
        case.tags.add(tag)
        _changed(case)
        record_event(
            action="cases.tag.added",
            actor=actor,
            target=case,
            case=case,
            changes={"tag": tag.name},
        )
    return tag


def case_tag_remove(*, case: SupportCase, actor: Actor, tag: Tag) -> None:
    """Take ``tag`` off the case; removing a tag it lacks changes nothing."""
    _require_agent(actor)
    with transaction.atomic():
        case = SupportCase.objects.select_for_update().get(pk=case.pk)
        if not case.tags.filter(pk=tag.pk).exists():
            return
        case.tags.remove(tag)
        _changed(case)
        record_event(
            action="cases.tag.removed",
            actor=actor,
            target=case,
            case=case,
            changes={"tag": tag.name},
        )


def _changed(case: SupportCase) -> None:
    SupportCase.objects.filter(pk=case.pk).update(updated_at=timezone.now())
    counts.invalidate(team_ids=[case.team_id], agent_ids=[case.assignee_id])


def _require_agent(actor: Actor) -> None:
    if actor.agent is None:
        raise PermissionDenied("Only agents can tag cases.")
