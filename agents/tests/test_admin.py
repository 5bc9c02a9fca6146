"""The supervisors' admin pages for agents and teams."""

from datetime import date, time

import pytest
from django.urls import reverse

from agents.models import BusinessHours, Holiday

pytestmark = pytest.mark.django_db


def test_agent_page_labels_delete_boxes(client, supervisor, agent):
    client.force_login(supervisor.user)

    html = client.get(
        reverse("admin:agents_agent_change", args=[agent.pk])
    ).content.decode()

    assert 'aria-label="Delete membership Alex Agent in Refunds"' in html


def test_team_page_labels_delete_boxes(client, supervisor, refunds_team):
    BusinessHours.objects.create(
        team=refunds_team, weekday=0, opens_at=time(9), closes_at=time(17)
    )
    Holiday.objects.create(team=refunds_team, date=date(2026, 12, 25), name="Xmas")
    client.force_login(supervisor.user)

    html = client.get(
        reverse("admin:agents_team_change", args=[refunds_team.pk])
    ).content.decode()

    assert 'aria-label="Delete membership Sam Supervisor in Refunds"' in html
    assert 'aria-label="Delete business hours Monday 09:00-17:00"' in html
    assert 'aria-label="Delete holiday 2026-12-25 Xmas"' in html
