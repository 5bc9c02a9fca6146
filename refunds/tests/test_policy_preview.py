"""Policy preview: which recent requests a policy change would decide differently."""

import copy
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from refunds.models import RefundPolicy, RefundRequest
from refunds.policy_preview import policy_preview
from refunds.services import NotEligible
from refunds.tests.factories import make_order, policy_form_data, request_refund

pytestmark = pytest.mark.django_db


def order_fulfilled(number, days_ago, price="40.00"):
    fulfilled = timezone.now() - timedelta(days=days_ago)
    return make_order(
        number,
        lines=[("Boots", price, 1, "BOOT")],
        created_at=fulfilled - timedelta(days=1),
        fulfilled_at=fulfilled,
    )


@pytest.fixture
def history(policy):
    """Three submissions: declined at 40 days, filed at 20 and at 5 days."""
    late = order_fulfilled("#5001", 40)
    with pytest.raises(NotEligible):
        request_refund(late)
    middle = request_refund(order_fulfilled("#5002", 20, "25.00"))
    recent = request_refund(order_fulfilled("#5003", 5, "15.00"))
    return late, middle, recent


def proposed(policy: RefundPolicy, **changes) -> RefundPolicy:
    copy_ = copy.copy(policy)
    for name, value in changes.items():
        setattr(copy_, name, value)
    return copy_


def test_longer_window_makes_declined_request_eligible(policy, history):
    late, _, _ = history

    preview = policy_preview(
        current=policy, proposed=proposed(policy, return_window_days=45), count=50
    )

    assert preview.compared == 3
    (row,) = preview.rows
    assert row.attempt.order == late
    assert row.attempt.refund is None
    assert row.change == "now eligible"
    assert row.before.outcome == RefundRequest.Outcome.NOT_ELIGIBLE
    assert row.after.outcome == RefundRequest.Outcome.NEEDS_AGENT
    assert row.amount.minor == 4000
    assert preview.newly_eligible == {"USD": 4000}
    assert preview.newly_blocked == {}


def test_shorter_window_blocks_filed_request(policy, history):
    _, middle, _ = history

    preview = policy_preview(
        current=policy, proposed=proposed(policy, return_window_days=10), count=50
    )

    (row,) = preview.rows
    assert row.attempt.refund == middle
    assert row.change == "now not eligible"
    assert preview.newly_blocked == {"USD": 2500}
    assert any("10-day window" in reason for reason in row.reasons_after)


def test_count_limits_the_requests_compared(policy, history):
    preview = policy_preview(
        current=policy, proposed=proposed(policy, return_window_days=45), count=2
    )

    assert preview.compared == 2
    assert preview.rows == []


def test_threshold_change_shows_who_decides(policy, history):
    preview = policy_preview(
        current=policy,
        proposed=proposed(policy, supervisor_threshold=20),
        count=50,
    )

    (row,) = preview.rows
    assert row.change == "decided by someone else"
    assert row.after_label == "Needs a supervisor"


def test_admin_preview_shows_flips_and_saves_nothing(
    client, supervisor, policy, history
):
    client.force_login(supervisor.user)
    _, data = policy_form_data(
        client, policy, return_window_days="45", preview_count="50", _preview="1"
    )

    response = client.post(
        reverse("admin:refunds_refundpolicy_preview", args=[policy.pk]), data
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "#5001" in page
    assert "now eligible" in page
    assert "Save these changes" in page
    assert 'name="return_window_days" value="45"' in page
    policy.refresh_from_db()
    assert policy.return_window_days == 30


def test_admin_saving_from_preview_applies_the_change(client, supervisor, policy):
    client.force_login(supervisor.user)
    change_url, data = policy_form_data(
        client, policy, return_window_days="45", _save="Save these changes"
    )

    response = client.post(change_url, data)

    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.return_window_days == 45


def test_admin_preview_of_invalid_policy_shows_errors(client, supervisor, policy):
    client.force_login(supervisor.user)

    response = client.post(
        reverse("admin:refunds_refundpolicy_preview", args=[policy.pk]),
        {"name": "", "return_window_days": "-3", "_preview": "1"},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Please correct the errors below." in page
    assert 'value="-3"' in page
    policy.refresh_from_db()
    assert policy.name == "Test policy"
