"""Macros: placeholders, preview and applying reply, status and tags."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from cases.audit import Actor
from cases.macros.models import Macro
from cases.macros.rendering import PlaceholderError, render_macro_text
from cases.macros.services import macro_apply
from cases.models import AuditEvent, CaseMessage, Customer, SupportCase
from cases.services import case_add_customer_message, case_create
from cases.tests.mail_helpers import import_order
from supportdesk.errors import StateConflict

pytestmark = pytest.mark.django_db

BODY = (
    "Hello {customer_name|there},\n\nWe refunded {refund_amount} for order "
    "{order_number}.\n\n{agent_name}"
)


@pytest.fixture
def case(db) -> SupportCase:
    import_order("#1032", "zoe@example.org", customer_name="Zoë 🚀 Tester")
    customer = Customer.objects.get(email="zoe@example.org")
    return case_create(
        actor=Actor.customer("Zoë"),
        subject="Refund?",
        channel=SupportCase.Channel.EMAIL,
        body="Hello",
        customer=customer,
        order=customer.orders.get(),
    )


@pytest.fixture
def solve_macro(db) -> Macro:
    return Macro.objects.create(
        name="Solved, thanks",
        body="Hi {customer_name|there}, glad we could help with {order_number}.",
        set_status="solved",
        add_tags="resolved, thanks",
    )


def test_placeholders_filled(case, agent):
    text = render_macro_text(
        "Hi {customer_name}, order {order_number}, case {case_reference}. {agent_name}",
        case=case,
        agent=agent,
    )

    assert text == f"Hi Zoë 🚀 Tester, order #1032, case {case.reference}. Alex Agent"


def test_missing_value_uses_fallback(agent):
    case = case_create(
        actor=Actor.customer(""), subject="?", channel="email", body="Hello"
    )

    text = render_macro_text("Hello {customer_name|there}", case=case, agent=agent)

    assert text == "Hello there"


def test_missing_value_without_fallback_raises(case, agent):
    with pytest.raises(PlaceholderError, match="has no refund amount"):
        render_macro_text(BODY, case=case, agent=agent)


def test_refund_amount_from_case_refund(case, agent, policy):
    from refunds.services import refund_request_create

    refund = refund_request_create(
        order=case.order,
        selection={case.order.lines.get().pk: 1},
        reason_code="damaged",
        reason_text="",
        actor=Actor.customer("Zoë"),
    )

    assert refund.case is not None
    text = render_macro_text(
        "{refund_amount} for {order_number}", case=refund.case, agent=agent
    )

    assert text == "$20.00 for #1032"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("Hi {name}", "{name} is not a placeholder"),
        ("Hi {customer_name", "A brace is not part of a placeholder"),
        ("Hi { customer_name }", "A brace is not part of a placeholder"),
    ],
)
def test_admin_validation_rejects_bad_placeholders(body, message):
    macro = Macro(name="Bad", body=body)

    with pytest.raises(ValidationError, match=message):
        macro.full_clean()


def test_macro_that_does_nothing_rejected():
    with pytest.raises(ValidationError, match="The macro does nothing"):
        Macro(name="Empty").full_clean()


def test_apply_replies_solves_and_tags(
    case, agent, solve_macro, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        macro_apply(case=case, actor=Actor.for_agent(agent), macro=solve_macro)

    case.refresh_from_db()
    reply = case.messages.get(kind=CaseMessage.Kind.REPLY)
    assert reply.body == "Hi Zoë 🚀 Tester, glad we could help with #1032."
    assert case.status == SupportCase.Status.SOLVED
    assert [m.subject for m in mail.outbox] == [
        f"Re: Refund? [{case.reference}]",
        f"How did we do? [{case.reference}]",
    ]
    event = AuditEvent.objects.get(action="cases.macro.applied")
    assert event.changes["tags"] == ["resolved", "thanks"]
    assert event.changes["status"] == "solved"
    assert sorted(case.tags.values_list("name", flat=True)) == ["resolved", "thanks"]


def test_apply_with_stale_version_changes_nothing(case, agent, solve_macro):
    stale = case.version
    # The customer writes again after the agent loaded the case.
    case_add_customer_message(case=case, actor=Actor.customer("Zoë"), body="More")

    with pytest.raises(StateConflict):
        macro_apply(
            case=case,
            actor=Actor.for_agent(agent),
            macro=solve_macro,
            expected_version=stale,
        )

    case.refresh_from_db()
    assert case.status == SupportCase.Status.OPEN
    assert not case.messages.filter(kind=CaseMessage.Kind.REPLY).exists()
    assert not AuditEvent.objects.filter(action="cases.macro.applied").exists()


def test_invalid_status_rolls_back_reply(case, agent):
    macro = Macro.objects.create(name="Close", body="Bye", set_status="closed")

    with pytest.raises(StateConflict):
        macro_apply(case=case, actor=Actor.for_agent(agent), macro=macro)

    assert not case.messages.filter(kind=CaseMessage.Kind.REPLY).exists()


def test_preview_page_shows_filled_text(case, agent_client, solve_macro):
    response = agent_client.get(
        reverse("macros:preview", args=[case.reference]), {"macro": solve_macro.pk}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Hi Zoë 🚀 Tester, glad we could help with #1032." in html
    assert "Status after sending: Solved" in html
    assert "Tags to add: resolved, thanks" in html


def test_preview_with_missing_value_explains(case, agent_client):
    macro = Macro.objects.create(name="Refund done", body=BODY)

    response = agent_client.get(
        reverse("macros:preview", args=[case.reference]), {"macro": macro.pk}
    )

    assert response.status_code == 422
    assert "has no refund amount" in response.content.decode()


def test_apply_view_sends_edited_text(case, agent_client, solve_macro):
    response = agent_client.post(
        reverse("macros:apply", args=[case.reference, solve_macro.pk]),
        {"body": "Edited by the agent.", "version": case.version},
    )

    case.refresh_from_db()
    assert response.status_code == 302
    assert case.messages.get(kind=CaseMessage.Kind.REPLY).body == "Edited by the agent."
    assert case.status == SupportCase.Status.SOLVED


def test_inactive_macro_cannot_be_applied(case, agent_client, solve_macro):
    solve_macro.is_active = False
    solve_macro.save()

    response = agent_client.post(
        reverse("macros:apply", args=[case.reference, solve_macro.pk]),
        {"body": "Hello", "version": case.version},
    )

    assert response.status_code == 404
    assert not case.messages.filter(kind=CaseMessage.Kind.REPLY).exists()


def test_case_page_offers_active_macros(case, agent_client, solve_macro):
    Macro.objects.create(name="Retired", body="Old", is_active=False)

    html = agent_client.get(
        reverse("cases:detail", args=[case.reference])
    ).content.decode()

    assert "Solved, thanks</option>" in html
    assert "Retired" not in html


def test_supervisor_manages_macros_in_admin(client, supervisor):
    client.force_login(supervisor.user)

    response = client.post(
        reverse("admin:cases_macro_add"),
        {
            "name": "Ask for photo",
            "body": "Hi {customer_name|there}, please send a photo.",
            "set_status": "pending",
            "add_tags": "needs-photo",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    assert Macro.objects.get().set_status == "pending"


def test_status_only_macro_checks_version(case, agent):
    macro = Macro.objects.create(name="Wait for customer", set_status="pending")
    stale = case.version
    case_add_customer_message(case=case, actor=Actor.customer("Zoë"), body="More")

    with pytest.raises(StateConflict):
        macro_apply(
            case=case, actor=Actor.for_agent(agent), macro=macro, expected_version=stale
        )
    case = macro_apply(
        case=case,
        actor=Actor.for_agent(agent),
        macro=macro,
        expected_version=SupportCase.objects.get(pk=case.pk).version,
    )

    assert case.status == SupportCase.Status.PENDING
    assert not case.messages.filter(kind=CaseMessage.Kind.REPLY).exists()


def test_apply_view_stale_case_answers_409(case, agent_client, solve_macro):
    stale = case.version
    case_add_customer_message(case=case, actor=Actor.customer("Zoë"), body="More")

    response = agent_client.post(
        reverse("macros:apply", args=[case.reference, solve_macro.pk]),
        {"body": "Too late", "version": stale},
    )

    case.refresh_from_db()
    assert response.status_code == 409
    assert "changed while you were working on it" in response.content.decode()
    assert case.status == SupportCase.Status.OPEN


def test_preview_page_without_choice_lists_macros(case, agent_client, solve_macro):
    response = agent_client.get(reverse("macros:preview", args=[case.reference]))

    assert response.status_code == 200
    assert "Solved, thanks</option>" in response.content.decode()
