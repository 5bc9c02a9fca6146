"""Merging a duplicate case into another one, and undoing the merge.

The source's messages, tags and refund request move to the target, and
the source is closed with ``merged_into`` set, so its reference redirects.
A CaseMerge row records what moved, so that the merge can be undone until
a reply is sent on the target.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from cases import search, services
from cases.audit import Actor, record_event
from cases.models import CaseMerge, CaseMessage, SupportCase
from cases.sla import sla_update
from refunds.models import RefundRequest
from supportdesk.errors import DomainError, PermissionDenied, StateConflict

logger = logging.getLogger(__name__)


def case_merge(
    *, source: SupportCase, target: SupportCase, actor: Actor, reason: str = ""
) -> CaseMerge:
    """Join ``source`` into ``target`` and close ``source``."""
    if actor.agent is None:
        raise PermissionDenied("Only agents can merge cases.")
    if source.pk == target.pk:
        raise DomainError("A case cannot be merged into itself.", field="target")
    with transaction.atomic():
        source, target = _lock_pair(source, target)
        _check_mergeable(source, target)
        now = timezone.now()
        message_ids = list(source.messages.values_list("pk", flat=True))
        CaseMessage.objects.filter(pk__in=message_ids).update(case=target)
        target_tags = set(target.tags.values_list("pk", flat=True))
        added_tags = [
            pk
            for pk in source.tags.values_list("pk", flat=True)
            if pk not in target_tags
        ]
        target.tags.add(*added_tags)
        moved_refund = (
            not RefundRequest.objects.filter(case=target).exists()
            and RefundRequest.objects.filter(case=source).update(case=target) > 0
        )
        merge = CaseMerge.objects.create(
            source=source,
            target=target,
            merged_at=now,
            merged_by=actor.user,
            source_status=source.status,
            source_assignee=source.assignee,
            message_ids=message_ids,
            added_tag_ids=added_tags,
            moved_refund=moved_refund,
        )
        source.status = SupportCase.Status.CLOSED
        source.closed_at = now
        source.merged_into = target
        _save_pair(source, target, actor, "cases.case.merged", reason, now)
    logger.info(
        "Case %s merged into %s",
        source.reference,
        target.reference,
        extra={"case": source.reference, "target": target.reference},
    )
    return merge


def _lock_pair(
    source: SupportCase, target: SupportCase
) -> tuple[SupportCase, SupportCase]:
    """Lock both cases in id order, so merges of the same pair queue up."""
    locked = {
        case.pk: case
        for case in SupportCase.objects.select_for_update()
        .filter(pk__in=[source.pk, target.pk])
        .order_by("pk")
    }
    for case in locked.values():
        case._queue_before = (case.team_id, case.assignee_id)
    return locked[source.pk], locked[target.pk]


def _check_mergeable(source: SupportCase, target: SupportCase) -> None:
    if source.merged_into_id is not None:
        raise StateConflict(f"{source.reference} is already merged into another case.")
    if target.merged_into_id is not None:
        raise StateConflict(
            f"{target.reference} was itself merged into another case. Merge into "
            "that case instead."
        )
    for case in (source, target):
        if case.status == SupportCase.Status.CLOSED:
            raise StateConflict(f"{case.reference} is closed and cannot be merged.")


def case_merge_undo(*, merge: CaseMerge, actor: Actor) -> CaseMerge:
    """Split a merged case off again, as it was before the merge.

    Raises StateConflict once a reply has been sent on the target after the
    merge, because the customer may have read the joined thread by then.
    """
    if actor.agent is None:
        raise PermissionDenied("Only agents can undo a merge.")
    with transaction.atomic():
        merge = CaseMerge.objects.select_for_update().get(pk=merge.pk)
        if merge.undone_at is not None:
            raise StateConflict("This merge was already undone.")
        source, target = _lock_pair(merge.source, merge.target)
        replied = CaseMessage.objects.filter(
            case=target, kind=CaseMessage.Kind.REPLY, created_at__gt=merge.merged_at
        ).exists()
        if replied:
            raise StateConflict(
                f"A reply was sent on {target.reference} after the merge, so the "
                "merge can no longer be undone."
            )
        now = timezone.now()
        CaseMessage.objects.filter(pk__in=merge.message_ids, case=target).update(
            case=source
        )
        target.tags.remove(*merge.added_tag_ids)
        if merge.moved_refund:
            RefundRequest.objects.filter(case=target).update(case=source)
        source.status = merge.source_status
        source.closed_at = None
        source.merged_into = None
        _save_pair(source, target, actor, "cases.case.merge_undone", "", now)
        merge.undone_at = now
        merge.save(update_fields=["undone_at"])
    return merge


def _save_pair(
    source: SupportCase,
    target: SupportCase,
    actor: Actor,
    action: str,
    reason: str,
    now: datetime,
) -> None:
    """Save the source's merge fields, raise both versions, audit and reindex."""
    services._touch(
        source,
        ["status", "closed_at", "merged_into", *sla_update(source, now=now)],
    )
    services._touch(target, [])
    changes = {"source": source.reference, "target": target.reference}
    for case in (source, target):
        record_event(
            action=action,
            actor=actor,
            target=case,
            case=case,
            reason=reason,
            changes=changes,
        )
    search.index_case(source.pk)
    search.index_case(target.pk)
