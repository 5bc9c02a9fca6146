"""The supervisors' admin pages against axe-core's WCAG 2.2 AA rules.

The API docs page (/api/v1/docs/, Swagger UI) is left out on purpose: it is
a developer tool outside the accessibility claim, see docs/api.md.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.audit import Actor
from refunds.selectors import awaiting_supervisor
from refunds.services import refund_escalate
from refunds.tests.factories import file_refund, recent_order

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("browser"),
]


@pytest.fixture
def admin_data(policy, refunds_team, agent):
    """A refund above the supervisor threshold, so every list has rows, and
    one that an agent sent to a supervisor with a recommendation."""
    order = recent_order(lines=[("Winter Coat", "600.00", 1, "COAT-1")])
    refund = file_refund(order, {"Winter Coat": 1})
    assert awaiting_supervisor().filter(pk=refund.pk).exists()
    boots = recent_order("#1002", lines=[("Boots", "150.00", 1, "BOOT-1")])
    refund_escalate(
        refund=file_refund(boots, {"Boots": 1}),
        actor=Actor.for_agent(agent),
        amount_minor=12000,
        note="Sole came off after a week.",
    )
    return refund


@pytest.mark.parametrize(
    "name,url",
    [
        ("index", "admin:index"),
        ("refund-requests", "admin:refunds_refundrequest_changelist"),
        ("awaiting-supervisor", "admin:refunds_awaitingsupervisor_changelist"),
        ("audit-events", "admin:cases_auditevent_changelist"),
        ("dead-letters", "admin:refunds_deadletter_changelist"),
        ("support-cases", "admin:cases_supportcase_changelist"),
        ("refund-change", "admin:refunds_refundrequest_change"),
        ("policy-change", "admin:refunds_refundpolicy_change"),
        ("agent-change", "admin:agents_agent_change"),
        ("team-change", "admin:agents_team_change"),
    ],
)
def test_admin_page_passes_axe(
    new_page, check_page, supervisor, admin_data, policy, agent, name, url
):
    args = {
        "admin:refunds_refundrequest_change": [admin_data.pk],
        "admin:refunds_refundpolicy_change": [policy.pk],
        "admin:agents_agent_change": [agent.pk],
        "admin:agents_team_change": [agent.teams.get().pk],
    }.get(url, [])
    page = new_page()
    page.goto(f"/login/?next={reverse(url, args=args)}")
    page.get_by_label("Username").fill(supervisor.user.username)
    page.get_by_label("Password").fill("pass-for-tests")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{reverse(url, args=args)}")

    check_page(page, f"admin-{name}")
