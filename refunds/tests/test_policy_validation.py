"""Refund policy values: field checks, and pages that survive a bad stored value."""

import logging
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from cases.models import Order
from refunds.models import RefundPolicy
from refunds.tests.factories import make_order, policy_form_data, request_refund
from supportdesk.tests.api_support import client_for

pytestmark = pytest.mark.django_db


def field_errors(response, name):
    return response.context["adminform"].form.errors.get(name, [])


def test_admin_rejects_unknown_time_zone(client, supervisor, policy):
    client.force_login(supervisor.user)
    url, data = policy_form_data(client, policy, time_zone="Mars/Olympus")

    response = client.post(url, data)

    assert response.status_code == 200
    assert field_errors(response, "time_zone") == [
        "'Mars/Olympus' is not an IANA time zone. Use a name such as Europe/Paris."
    ]
    policy.refresh_from_db()
    assert policy.time_zone == ""


def test_admin_accepts_iana_time_zone(client, supervisor, policy):
    client.force_login(supervisor.user)
    url, data = policy_form_data(client, policy, time_zone="Europe/Paris")

    response = client.post(url, data)

    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.time_zone == "Europe/Paris"


def test_admin_rejects_unknown_currency(client, supervisor, policy):
    client.force_login(supervisor.user)
    url, data = policy_form_data(client, policy, currency="XYZ")

    response = client.post(url, data)

    assert response.status_code == 200
    assert field_errors(response, "currency") == [
        "Unknown currency code 'XYZ'. Use an ISO 4217 code such as EUR."
    ]
    policy.refresh_from_db()
    assert policy.currency == "USD"


def test_admin_upper_cases_currency(client, supervisor, policy):
    client.force_login(supervisor.user)
    url, data = policy_form_data(client, policy, currency="eur")

    response = client.post(url, data)

    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.currency == "EUR"


def test_admin_rejects_limit_above_threshold(client, supervisor, policy):
    client.force_login(supervisor.user)
    url, data = policy_form_data(
        client, policy, auto_approve_limit="500", supervisor_threshold="250"
    )

    response = client.post(url, data)

    assert response.status_code == 200
    assert field_errors(response, "auto_approve_limit") == [
        "The automatic approval limit (500) must be at most the supervisor "
        "threshold (250)."
    ]
    policy.refresh_from_db()
    assert policy.auto_approve_limit == Decimal("0")


@pytest.mark.parametrize(
    ("currency", "amount", "message"),
    [
        ("USD", "25.123", "25.123 has more than 2 decimals, which USD does not allow."),
        ("JPY", "25.5", "25.5 has more than 0 decimals, which JPY does not allow."),
    ],
)
def test_admin_rejects_decimals_the_currency_lacks(
    client, supervisor, policy, currency, amount, message
):
    client.force_login(supervisor.user)
    url, data = policy_form_data(
        client, policy, currency=currency, supervisor_threshold=amount
    )

    response = client.post(url, data)

    assert response.status_code == 200
    assert field_errors(response, "supervisor_threshold") == [message]


def test_three_decimals_fit_a_kwd_policy(policy):
    policy.currency = "KWD"
    policy.auto_approve_limit = Decimal("25.125")

    policy.full_clean()


def test_admin_preview_shows_time_zone_error(client, supervisor, policy):
    client.force_login(supervisor.user)
    _, data = policy_form_data(client, policy, time_zone="Mars/Olympus", _preview="1")

    response = client.post(
        reverse("admin:refunds_refundpolicy_preview", args=[policy.pk]), data
    )

    page = response.content.decode()
    change_url = reverse("admin:refunds_refundpolicy_change", args=[policy.pk])
    assert response.status_code == 200
    assert "is not an IANA time zone" in page
    assert 'value="Mars/Olympus"' in page
    assert f'action="{change_url}"' in page
    policy.refresh_from_db()
    assert policy.time_zone != "Mars/Olympus"


@pytest.fixture
def broken_policy(policy):
    """Policy with an invalid time zone saved with update(), bypassing the checks."""
    RefundPolicy.objects.filter(pk=policy.pk).update(time_zone="Mars/Olympus")
    return policy


def looked_up(client, order):
    client.post(
        reverse("refunds:start"),
        {"order_number": order.number, "email": order.email},
    )
    return client


def test_refund_lookup_with_broken_policy_is_503(client, broken_policy, caplog):
    order = make_order()

    with caplog.at_level(logging.ERROR, logger="refunds.selectors"):
        response = client.post(
            reverse("refunds:start"),
            {"order_number": order.number, "email": order.email},
        )

    assert response.status_code == 503
    assert "refund policy is misconfigured" in response.content.decode()
    assert "'Mars/Olympus' is not an IANA time zone" in caplog.text


def test_order_page_after_policy_broke_is_503(client, policy):
    order = make_order()
    looked_up(client, order)
    RefundPolicy.objects.filter(pk=policy.pk).update(time_zone="Mars/Olympus")

    response = client.get(reverse("refunds:order", args=[order.pk]))

    assert response.status_code == 503
    assert "Refunds are unavailable for the moment" in response.content.decode()


def test_refund_check_with_broken_policy_refreshes(client, policy):
    order = make_order()
    looked_up(client, order)
    RefundPolicy.objects.filter(pk=policy.pk).update(currency="XYZ")

    response = client.post(
        reverse("refunds:check", args=[order.pk]), {}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert response.headers["HX-Refresh"] == "true"


def test_api_with_broken_policy_is_problem_503(agent, broken_policy):
    make_order()
    client = client_for(agent.user)

    response = client.post(
        "/api/v1/refunds/",
        {
            "order_number": "#1001",
            "lines": [{"position": 1, "quantity": 1}],
            "reason_code": "damaged",
        },
        format="json",
    )

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "policy_misconfigured"


def test_case_page_with_lower_case_currency_is_503(agent_client, policy):
    refund = request_refund(make_order())
    RefundPolicy.objects.filter(pk=policy.pk).update(currency="usd")

    response = agent_client.get(reverse("cases:detail", args=[refund.case.reference]))

    assert response.status_code == 503
    assert "refund policy is misconfigured" in response.content.decode()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "return_window_days",
            "3000000",
            "The return window can be at most 3650 days (ten years). Enter a "
            "smaller number of days.",
        ),
        (
            "abuse_period_days",
            "3651",
            "The abuse period can be at most 3650 days (ten years). Enter a "
            "smaller number of days.",
        ),
        (
            "abuse_max_refunds",
            "1001",
            "The refund count can be at most 1000. Enter 0 to turn the check off.",
        ),
        (
            "auto_approve_limit",
            "-1",
            "The automatic approval limit cannot be negative. Enter 0 or more.",
        ),
        (
            "abuse_max_ratio",
            "5",
            "The refunded share is a fraction of spending, so it can be at most "
            "1. Enter 0.50 for half, or 0 to turn the check off.",
        ),
        (
            "abuse_max_ratio",
            "-0.5",
            "The refunded share cannot be negative. Enter 0 or more.",
        ),
    ],
)
def test_admin_rejects_out_of_range_numbers(
    client, supervisor, policy, name, value, message
):
    client.force_login(supervisor.user)
    url, data = policy_form_data(client, policy, **{name: value})

    response = client.post(url, data)

    assert response.status_code == 200
    assert message in field_errors(response, name)


@pytest.mark.parametrize("code", ["XXX", "XTS", "XAU", "XDR", "xxx"])
def test_admin_rejects_non_money_currency(client, supervisor, policy, code):
    client.force_login(supervisor.user)
    url, data = policy_form_data(client, policy, currency=code)

    response = client.post(url, data)

    assert response.status_code == 200
    assert field_errors(response, "currency") == [
        f"{code.upper()} is an ISO 4217 code for something other than money, "
        "such as a precious metal, a fund unit or a test. Use the code of the "
        "shop's currency, such as EUR."
    ]


@pytest.mark.parametrize("code", ["XOF", "XAF", "XPF", "XCD"])
def test_x_code_currencies_that_are_money_pass(policy, code):
    policy.currency = code

    policy.full_clean()


@pytest.mark.parametrize("name", ["Factory", "localtime", "EST"])
def test_admin_rejects_time_zone_of_no_place(client, supervisor, policy, name):
    client.force_login(supervisor.user)
    url, data = policy_form_data(client, policy, time_zone=name)

    response = client.post(url, data)

    assert response.status_code == 200
    assert field_errors(response, "time_zone") == [
        f"'{name}' is not the time zone of a place. Use an Area/Location name "
        "such as Europe/Paris, or UTC."
    ]


@pytest.mark.parametrize("name", ["UTC", "America/Argentina/Buenos_Aires"])
def test_place_and_utc_time_zones_pass(policy, name):
    policy.time_zone = name

    policy.full_clean()


def test_admin_preview_shows_return_window_error(client, supervisor, policy):
    client.force_login(supervisor.user)
    _, data = policy_form_data(
        client, policy, return_window_days="3000000", _preview="1"
    )

    response = client.post(
        reverse("admin:refunds_refundpolicy_preview", args=[policy.pk]), data
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "The return window can be at most 3650 days" in page
    assert 'value="3000000"' in page


def test_stored_huge_return_window_is_503(client, policy, caplog):
    order = make_order()
    looked_up(client, order)
    RefundPolicy.objects.filter(pk=policy.pk).update(return_window_days=3000000)

    with caplog.at_level(logging.ERROR, logger="refunds.selectors"):
        response = client.get(reverse("refunds:order", args=[order.pk]))

    assert response.status_code == 503
    assert "Return window days: The return window can be at most" in caplog.text


def test_deadline_past_year_9999_is_503(client, policy):
    order = make_order()
    looked_up(client, order)
    late = datetime(9999, 12, 30, tzinfo=UTC)
    Order.objects.filter(pk=order.pk).update(
        placed_at=late, fulfilled_at=late, delivered_at=None
    )

    response = client.get(reverse("refunds:order", args=[order.pk]))

    assert response.status_code == 503
    assert "Refunds are unavailable for the moment" in response.content.decode()


def test_preview_with_stored_huge_abuse_period_is_503(client, supervisor, policy):
    request_refund(make_order())
    client.force_login(supervisor.user)
    _, data = policy_form_data(client, policy, _preview="1")
    RefundPolicy.objects.filter(pk=policy.pk).update(abuse_period_days=3000000)

    response = client.post(
        reverse("admin:refunds_refundpolicy_preview", args=[policy.pk]), data
    )

    assert response.status_code == 503
