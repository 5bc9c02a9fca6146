"""The case page's history describes events in words."""

import pytest

from cases.audit import Actor, describe_event, record_event
from cases.models import SupportCase
from cases.services import case_change_priority, case_change_status, case_create

pytestmark = pytest.mark.django_db


def test_status_change_described_with_labels(agent):
    case = case_create(
        actor=Actor.customer("Pat"), subject="Hello", channel="contact_form", body="Hi"
    )
    case_change_status(
        case=case, actor=Actor.for_agent(agent), status=SupportCase.Status.SOLVED
    )

    event = case.events.get(action="cases.case.status_changed")

    assert describe_event(event) == "changed the status: open → solved"


def test_priority_change_uses_priority_names(agent):
    case = case_create(
        actor=Actor.customer("Pat"), subject="Hello", channel="contact_form", body="Hi"
    )
    case_change_priority(
        case=case, actor=Actor.for_agent(agent), priority=SupportCase.Priority.URGENT
    )

    event = case.events.get(action="cases.case.priority_changed")

    assert describe_event(event) == "changed the priority: normal → urgent"


def test_unknown_action_falls_back_to_its_name(agent):
    case = case_create(
        actor=Actor.customer("Pat"), subject="Hello", channel="contact_form", body="Hi"
    )
    event = record_event(
        action="cases.case.reopened_by_robot",
        actor=Actor.system(),
        target=case,
        case=case,
    )

    assert describe_event(event) == "cases.case.reopened_by_robot"


def test_case_page_history_shows_words(agent_client, agent):
    case = case_create(
        actor=Actor.customer("Pat"), subject="Hello", channel="contact_form", body="Hi"
    )

    response = agent_client.get(f"/cases/{case.reference}/")

    assert "Pat opened the case" in response.content.decode()
    assert "cases.case.created" not in response.content.decode()
