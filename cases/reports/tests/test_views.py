"""The admin reports page and its CSV downloads."""

from __future__ import annotations

import csv
import io

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from cases.reports.tests.conftest import MARCH, NOW
from cases.tests.factories import make_case

pytestmark = pytest.mark.django_db

PAGE = reverse("reports:page")


@pytest.fixture
def supervisor_client(client, supervisor):
    client.force_login(supervisor.user)
    return client


def get(client, url, **params):
    with time_machine.travel(NOW, tick=False):
        return client.get(url, params)


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_page_shows_march_figures(desk, supervisor_client):
    response = get(supervisor_client, PAGE, **MARCH)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<caption>Case counts</caption>" in html
    assert '<th scope="row">Created</th><td>4</td>' in html
    assert '<th scope="row">Reopened</th><td>1</td>' in html
    assert "¥5,000" in html
    assert "$155.00" in html
    assert '<th scope="row">Alex Agent</th><td>3</td><td>3</td><td>20 min</td>' in html
    assert "01 Mar 2025 to 31 Mar 2025" in html
    assert "wall-clock" in html


def test_page_filters_by_team(desk, supervisor_client, general_team):
    response = get(supervisor_client, PAGE, **MARCH, team="general")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<th scope="row">Created</th><td>1</td>' in html
    assert "team <strong>General</strong>" in html
    assert "Alex Agent" not in html


def test_page_defaults_to_last_30_days(desk, supervisor_client):
    response = get(supervisor_client, PAGE)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Last 30 days" in html
    # 3 Mar 12:00 to 2 Apr 12:00: A and B were created before it.
    assert '<th scope="row">Created</th><td>2</td>' in html


def test_page_filters_last_7_days(desk, supervisor_client):
    response = get(supervisor_client, PAGE, period="7")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<th scope="row">Created</th><td>0</td>' in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"start": "2025-03-31", "end": "2025-03-01"},
            "To: The last day (2025-03-01) is before the first day (2025-03-31).",
        ),
        ({"start": "yesterday", "end": "2025-03-31"}, "From: Enter a valid date."),
        ({"start": "2025-03-01"}, "To: Enter the last day of the date range."),
        ({"period": "range", "end": "2025-03-01"}, "From: Enter the first day"),
        ({"team": "nobody"}, "Team: There is no team with this identifier."),
        ({"period": "365"}, "Period: Select a valid choice."),
        ({"start": "2025-03-01", "end": "9999-12-31"}, "To: Enter a day before"),
    ],
)
def test_page_rejects_bad_filters(supervisor_client, params, message):
    response = get(supervisor_client, PAGE, **params)

    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    assert 'class="report-table"' not in html


def test_page_closed_to_agents(agent_client):
    response = get(agent_client, PAGE)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_page_forbidden_to_staff_without_permission(client, db):
    staff = get_user_model().objects.create_user(
        username="clerk", password="pass-for-tests", is_staff=True
    )
    client.force_login(staff)

    page = get(client, PAGE)
    download = get(client, reverse("reports:csv", args=["cases"]))

    assert page.status_code == 403
    assert download.status_code == 403


def test_admin_index_links_reports(supervisor_client, agent):
    response = get(supervisor_client, reverse("admin:index"))

    assert response.status_code == 200
    assert f'href="{PAGE}"' in response.content.decode()


def test_admin_index_hides_reports_without_permission(client, db):
    staff = get_user_model().objects.create_user(
        username="clerk", password="pass-for-tests", is_staff=True
    )
    client.force_login(staff)

    response = get(client, reverse("admin:index"))

    assert f'href="{PAGE}"' not in response.content.decode()


def test_csv_of_agents(desk, supervisor_client):
    response = get(supervisor_client, reverse("reports:csv", args=["agents"]), **MARCH)

    rows = csv_rows(response)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="supportdesk-agents-2025-03-01-to-2025-03-31.csv"'
    )
    assert rows[0] == [
        "Agent",
        "Cases solved",
        "Replies sent",
        "Median first response",
        "Refunds decided",
        "Amount approved",
        "Survey answers",
        "Average rating",
        "CSAT (%)",
    ]
    assert rows[1] == [
        "Alex Agent",
        "3",
        "3",
        "0:20:00",
        "2",
        "60.00 USD",
        "3",
        "3.67",
        "67",
    ]
    assert rows[2] == ["Bea Agent", "0", "1", "2:00:00", "0", "", "0", "", ""]
    assert rows[3] == ["Sam Supervisor", "0", "0", "", "1", "5000 JPY", "0", "", ""]


def test_csv_of_refund_amounts(desk, supervisor_client):
    url = reverse("reports:csv", args=["refund-amounts"])

    response = get(supervisor_client, url, **MARCH, team="refunds")

    assert response["Content-Disposition"] == (
        'attachment; filename="supportdesk-refund-amounts-2025-03-01-to-2025-03-31'
        '-refunds.csv"'
    )
    assert csv_rows(response) == [
        ["Currency", "Requests", "Requested", "Approved", "Marked refunded"],
        ["JPY", "1", "5000", "5000", "0"],
        ["USD", "3", "115.00", "85.00", "25.00"],
    ]


def test_csv_of_times(desk, supervisor_client):
    response = get(supervisor_client, reverse("reports:csv", args=["times"]), **MARCH)

    assert csv_rows(response)[1:] == [
        ["First response", "3", "0:30:00", "1:42:00"],
        ["Resolution", "3", "10:00:00", "310:00:00"],
    ]


def test_csv_rejects_bad_filters(supervisor_client):
    url = reverse("reports:csv", args=["cases"])

    response = get(supervisor_client, url, start="2025-03-31", end="2025-03-01")

    assert response.status_code == 400
    assert response.content.decode().startswith("To: The last day")


def test_csv_of_unknown_table(supervisor_client):
    response = get(supervisor_client, reverse("reports:csv", args=["nothing"]))

    assert response.status_code == 404


def add_activity(team, agent, count: int) -> None:
    """Open ``count`` more cases in March, each assigned and replied to."""
    from cases.audit import Actor
    from cases.services import case_assign, case_reply

    for day in range(count):
        case = make_case(team, at=NOW.replace(month=3, day=1 + day % 28, hour=8))
        with time_machine.travel(NOW.replace(month=3, day=1 + day % 28, hour=9)):
            case_assign(case=case, actor=Actor.for_agent(agent), assignee=agent)
            case_reply(case=case, actor=Actor.for_agent(agent), body="Hello")


def test_page_query_count_does_not_grow(
    desk, supervisor_client, refunds_team, django_assert_num_queries
):
    # The user and two permission queries, 14 for the figures and one for
    # the teams listed in the filter form: 18. The session adds one more
    # when it is stored in the database only, because without Redis the
    # cached_db engine is not used.
    database_sessions = settings.SESSION_ENGINE.endswith(".db")
    expected = 18 + database_sessions
    with django_assert_num_queries(expected):
        get(supervisor_client, PAGE, **MARCH)

    add_activity(refunds_team, desk.bea, 30)

    with django_assert_num_queries(expected):
        response = get(supervisor_client, PAGE, **MARCH)
    assert '<th scope="row">Created</th><td>34</td>' in response.content.decode()
