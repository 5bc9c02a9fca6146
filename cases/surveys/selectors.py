"""Reads of satisfaction surveys: results per agent or team."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Avg, Count, Q

from agents.models import Team
from cases.surveys.models import SatisfactionSurvey


def survey_results(
    group_by: str,
    since: datetime | None = None,
    *,
    until: datetime | None = None,
    team: Team | None = None,
) -> list[dict]:
    """Return survey counts and ratings grouped by ``group_by``.

    ``group_by`` is "agent" or "team". Surveys count when they were sent
    (created) at or after ``since`` and before ``until``, and, with
    ``team``, when they belong to that team. Each row has the agent's or
    team's id (None for surveys without one), its name, surveys sent,
    answers, the average rating and the share of ratings of 4 or 5 (CSAT,
    in percent). One query, whatever the number of agents or teams.
    """
    name = f"{group_by}__display_name" if group_by == "agent" else "team__name"
    surveys = SatisfactionSurvey.objects.all()
    if since is not None:
        surveys = surveys.filter(created_at__gte=since)
    if until is not None:
        surveys = surveys.filter(created_at__lt=until)
    if team is not None:
        surveys = surveys.filter(team=team)
    rows = (
        surveys.values(group_by, name)
        .annotate(
            sent=Count("id"),
            answered=Count("id", filter=Q(answered_at__isnull=False)),
            satisfied=Count("id", filter=Q(rating__gte=4)),
            average=Avg("rating"),
        )
        .order_by(name)
    )
    return [
        {
            "id": row[group_by],
            "name": row[name] or f"No {group_by}",
            "sent": row["sent"],
            "answered": row["answered"],
            "response_rate": round(100 * row["answered"] / row["sent"])
            if row["sent"]
            else None,
            "average": round(row["average"], 2) if row["average"] else None,
            "csat": round(100 * row["satisfied"] / row["answered"])
            if row["answered"]
            else None,
        }
        for row in rows
    ]
