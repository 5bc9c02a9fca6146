"""Satisfaction surveys: one per solve, token links, answers and results."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from cases.audit import Actor
from cases.models import Customer, SatisfactionSurvey, SupportCase
from cases.services import case_assign, case_change_status, case_create
from cases.surveys.selectors import survey_results
from cases.surveys.services import survey_answer
from cases.tests.mail_helpers import parse_sent
from supportdesk.errors import StateConflict

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(agent, refunds_team) -> SupportCase:
    customer = Customer.objects.create(
        key="email:zoe@example.org", email="zoe@example.org", name="Zoë"
    )
    case = case_create(
        actor=Actor.customer("Zoë"),
        subject="Where is my parcel?",
        channel=SupportCase.Channel.EMAIL,
        body="Hello",
        customer=customer,
        team=refunds_team,
    )
    return case_assign(case=case, actor=Actor.for_agent(agent), assignee=agent)


@pytest.fixture
def solve(agent, django_capture_on_commit_callbacks):
    def run(case: SupportCase) -> SupportCase:
        with django_capture_on_commit_callbacks(execute=True):
            return case_change_status(
                case=case, actor=Actor.for_agent(agent), status="solved"
            )

    return run


def test_solving_sends_one_survey(case, solve, agent, refunds_team):
    solve(case)

    survey = SatisfactionSurvey.objects.get()
    assert survey.agent == agent
    assert survey.team == refunds_team
    assert survey.email == "zoe@example.org"
    assert len(mail.outbox) == 1
    sent = parse_sent(mail.outbox[0])
    assert sent["Auto-Submitted"] == "auto-generated"
    assert sent["Subject"] == f"How did we do? [{case.reference}]"
    assert f"/survey/{survey.token}/" in sent.get_body(("plain",)).get_content()
    assert f"/survey/{survey.token}/?rating=5" in sent.get_body(("html",)).get_content()


def test_each_solve_gets_its_own_survey(case, solve, agent):
    solved = solve(case)
    reopened = case_change_status(
        case=solved, actor=Actor.for_agent(agent), status="open"
    )

    solve(reopened)

    assert SatisfactionSurvey.objects.count() == 2
    assert len(mail.outbox) == 2


def test_no_survey_without_email_address(agent, solve):
    case = case_create(
        actor=Actor.customer("Walk-in"),
        subject="Phone call",
        channel=SupportCase.Channel.AGENT,
        body="Hello",
    )

    solve(case)

    assert SatisfactionSurvey.objects.count() == 0
    assert mail.outbox == []


def test_link_rating_preselects_without_storing(case, solve, client):
    solve(case)
    survey = SatisfactionSurvey.objects.get()

    response = client.get(reverse("surveys:answer", args=[survey.token]) + "?rating=4")

    survey.refresh_from_db()
    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="4" id="id_rating_3" required checked' in html
    assert survey.rating is None
    assert survey.answered_at is None


def test_answer_stored_with_comment(case, solve, client):
    solve(case)
    survey = SatisfactionSurvey.objects.get()
    url = reverse("surveys:answer", args=[survey.token])

    response = client.post(url, {"rating": "5", "comment": "Très bien 👍"})

    survey.refresh_from_db()
    assert response.status_code == 302
    assert survey.rating == 5
    assert survey.comment == "Très bien 👍"
    assert survey.answered_at is not None
    page = client.get(url).content.decode()
    assert "Your rating is <strong>5: Very satisfied</strong>" in page


def test_answer_changeable_within_window_only(case, solve):
    solve(case)
    survey = SatisfactionSurvey.objects.get()
    survey_answer(survey=survey, rating=2)

    survey_answer(survey=survey, rating=4, comment="Fixed after all")
    with (
        time_machine.travel(timezone.now() + timedelta(hours=25)),
        pytest.raises(StateConflict),
    ):
        survey_answer(survey=survey, rating=1)

    survey.refresh_from_db()
    assert survey.rating == 4
    assert survey.comment == "Fixed after all"


def test_expired_link_rejects_answer(case, solve, client):
    solve(case)
    survey = SatisfactionSurvey.objects.get()
    url = reverse("surveys:answer", args=[survey.token])

    with time_machine.travel(timezone.now() + timedelta(days=31)):
        page = client.get(url)
        response = client.post(url, {"rating": "5"})

    survey.refresh_from_db()
    assert "This survey link has expired." in page.content.decode()
    assert response.status_code == 409
    assert survey.rating is None


@pytest.mark.parametrize("rating", ["0", "6", "great", ""])
def test_invalid_rating_rejected(case, solve, client, rating):
    solve(case)
    survey = SatisfactionSurvey.objects.get()

    response = client.post(
        reverse("surveys:answer", args=[survey.token]), {"rating": rating}
    )

    survey.refresh_from_db()
    assert response.status_code == 422
    assert 'id="id_rating_error"' in response.content.decode()
    assert survey.rating is None


def test_unknown_token_not_found(client):
    response = client.get(reverse("surveys:answer", args=["not-a-token"]))

    assert response.status_code == 404


def test_results_grouped_by_agent_and_team(case, solve, make_agent, general_team):
    solve(case)
    other = make_agent("Bea Agent", teams=[general_team])
    second = case_create(
        actor=Actor.customer("Zoë"),
        subject="Second",
        channel=SupportCase.Channel.EMAIL,
        body="Hello",
        customer=case.customer,
        team=general_team,
    )
    second = case_assign(case=second, actor=Actor.for_agent(other), assignee=other)
    solve(second)
    first_survey, second_survey = SatisfactionSurvey.objects.order_by("id")
    survey_answer(survey=first_survey, rating=5)
    survey_answer(survey=second_survey, rating=2)

    by_agent = survey_results("agent")
    by_team = survey_results("team")

    assert by_agent == [
        {
            "id": case.assignee_id,
            "name": "Alex Agent",
            "sent": 1,
            "answered": 1,
            "response_rate": 100,
            "average": 5,
            "csat": 100,
        },
        {
            "id": other.pk,
            "name": "Bea Agent",
            "sent": 1,
            "answered": 1,
            "response_rate": 100,
            "average": 2,
            "csat": 0,
        },
    ]
    assert [row["name"] for row in by_team] == ["General", "Refunds"]


def test_results_page_for_supervisors(case, solve, client, supervisor):
    solve(case)
    survey_answer(survey=SatisfactionSurvey.objects.get(), rating=4)
    client.force_login(supervisor.user)

    response = client.get(reverse("admin:cases_satisfactionsurvey_results"))
    changelist = client.get(reverse("admin:cases_satisfactionsurvey_changelist"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Alex Agent" in html
    assert "<td>100 %</td>" in html
    assert changelist.status_code == 200
    assert (
        reverse("admin:cases_satisfactionsurvey_results") in changelist.content.decode()
    )


def test_results_page_closed_to_agents(agent_client):
    response = agent_client.get(reverse("admin:cases_satisfactionsurvey_results"))

    assert response.status_code == 302
