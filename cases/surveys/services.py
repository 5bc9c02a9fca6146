"""Writes to satisfaction surveys: creation on solve, and the customer's answer."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from agents.models import Agent
from cases.audit import Actor, record_event
from cases.mail.models import OutboundEmail
from cases.mail.outbound import email_queue, recipient_for
from cases.mail.rendering import render_email
from cases.models import SupportCase
from cases.surveys.models import SatisfactionSurvey
from supportdesk.errors import DomainError, StateConflict

logger = logging.getLogger(__name__)

# How long the emailed link accepts a first answer.
ANSWER_WINDOW = timedelta(days=30)
# How long after the first answer the customer may still change it, for a
# slip of the finger; after that the rating counts as given.
CHANGE_WINDOW = timedelta(hours=24)
MAX_COMMENT_LENGTH = 2000


def survey_create_for_solve(
    *, case: SupportCase, solved_by: Agent | None = None
) -> SatisfactionSurvey | None:
    """Create the survey of the solve just made and queue its email.

    Call it inside the transaction that solves the case: the email goes out
    after the commit, once per solve (a unique constraint on the case and
    its solved_at). The rating counts for the assignee, or for the agent who
    solved an unassigned case. Returns None when the customer has no email
    address.
    """
    to_address = recipient_for(case)
    if not to_address or case.solved_at is None:
        return None
    survey, created = SatisfactionSurvey.objects.get_or_create(
        case=case,
        solved_at=case.solved_at,
        defaults={
            "agent_id": case.assignee_id or (solved_by.pk if solved_by else None),
            "team_id": case.team_id,
            "email": to_address,
            "expires_at": case.solved_at + ANSWER_WINDOW,
        },
    )
    if not created:
        return survey
    rendered = render_email(
        "survey",
        {
            "case": case,
            "survey": survey,
            "survey_url": survey_url(survey),
            "ratings": SatisfactionSurvey.RATINGS,
            "shop_name": settings.SHOP_NAME,
        },
    )
    email_queue(
        case=case,
        kind=OutboundEmail.Kind.SURVEY,
        rendered=rendered,
        to_address=to_address,
        auto_submitted="auto-generated",
    )
    record_event(
        action="cases.survey.sent",
        actor=Actor.system(),
        target=survey,
        case=case,
    )
    return survey


def survey_url(survey: SatisfactionSurvey) -> str:
    return settings.SITE_URL + reverse("surveys:answer", args=[survey.token])


def survey_can_answer(survey: SatisfactionSurvey, now=None) -> bool:
    """Return True while the customer may give or change the answer."""
    now = now or timezone.now()
    if survey.answered_at is None:
        return now < survey.expires_at
    return survey.changeable_until is not None and now < survey.changeable_until


def survey_answer(
    *, survey: SatisfactionSurvey, rating: int, comment: str = ""
) -> SatisfactionSurvey:
    """Store the customer's rating from 1 to 5 and optional comment."""
    if rating not in range(1, 6):
        raise DomainError("Choose a rating from 1 to 5.", field="rating")
    comment = comment.strip()
    if len(comment) > MAX_COMMENT_LENGTH:
        raise DomainError(
            f"Shorten the comment to at most {MAX_COMMENT_LENGTH:,} characters.",
            field="comment",
        )
    with transaction.atomic():
        survey = SatisfactionSurvey.objects.select_for_update().get(pk=survey.pk)
        now = timezone.now()
        if not survey_can_answer(survey, now):
            raise StateConflict(
                "This survey can no longer be answered or changed."
                if survey.answered_at
                else "This survey link has expired."
            )
        first = survey.answered_at is None
        old = survey.rating
        survey.rating = rating
        survey.comment = comment
        if first:
            survey.answered_at = now
            survey.changeable_until = now + CHANGE_WINDOW
        survey.save(
            update_fields=["rating", "comment", "answered_at", "changeable_until"]
        )
        record_event(
            action="cases.survey.answered" if first else "cases.survey.changed",
            actor=Actor.customer(
                survey.case.customer.name if survey.case.customer is not None else ""
            ),
            target=survey,
            case=survey.case,
            changes={"rating": [old, rating]},
        )
    logger.info(
        "Survey %s answered",
        survey.pk,
        extra={"survey": survey.pk, "case": survey.case_id},
    )
    return survey
