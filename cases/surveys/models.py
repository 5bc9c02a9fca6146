"""Satisfaction surveys sent when a case is solved."""

from __future__ import annotations

import secrets

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


def new_survey_token() -> str:
    return secrets.token_urlsafe(32)


class SatisfactionSurvey(models.Model):
    """One rating request per solve of a case, answered through a token link.

    ``agent`` and ``team`` are copied from the case when it was solved, so a
    later reassignment does not move the rating to someone else.
    """

    RATINGS = [
        (1, "1: Very dissatisfied"),
        (2, "2: Dissatisfied"),
        (3, "3: Neither satisfied nor dissatisfied"),
        (4, "4: Satisfied"),
        (5, "5: Very satisfied"),
    ]

    case = models.ForeignKey(
        "cases.SupportCase", on_delete=models.CASCADE, related_name="surveys"
    )
    # The solve this survey is about: the case's solved_at at that time.
    solved_at = models.DateTimeField()
    agent = models.ForeignKey(
        "agents.Agent",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="surveys",
    )
    team = models.ForeignKey(
        "agents.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="surveys",
    )
    token = models.CharField(max_length=64, unique=True, default=new_survey_token)
    email = models.CharField(max_length=254)
    created_at = models.DateTimeField(default=timezone.now)
    # The link accepts a first answer until then.
    expires_at = models.DateTimeField()
    rating = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        choices=RATINGS,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    comment = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    # The customer may change the answer until then.
    changeable_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "solved_at"], name="cases_survey_one_per_solve"
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="cases_survey_rating_1_to_5",
            ),
        ]
        indexes = [
            models.Index(fields=["agent", "answered_at"], name="cases_survey_agent"),
            models.Index(fields=["team", "answered_at"], name="cases_survey_team"),
        ]

    def __str__(self) -> str:
        return f"Survey on case {self.case_id}"

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None
