"""The public refund pages: lookup, live check, exactly-once submit, status."""

import pytest
from django.urls import reverse

from cases.models import CaseMessage
from refunds.models import RefundRequest
from refunds.tests.factories import make_order

pytestmark = pytest.mark.django_db


def look_up(client, number="#1001", email="ana.tester@example.com"):
    return client.post(
        reverse("refunds:start"), {"order_number": number, "email": email}
    )


def form_data(client, order, qty=1, position=1):
    page = client.get(reverse("refunds:order", args=[order.pk]))
    key = page.context["form"].initial["submission_key"]
    line = order.lines.get(position=position)
    return {
        "submission_key": key,
        "reason_code": "damaged",
        "reason_text": "Box arrived crushed 📦💥",
        f"qty-{line.pk}": qty,
    }


def test_wrong_email_looks_like_unknown_order(client, policy):
    make_order()

    wrong_email = look_up(client, email="someone.else@example.com")
    unknown = look_up(client, number="#9999")

    assert wrong_email.status_code == unknown.status_code == 422
    message = "We could not find an order with that number and email address."
    assert message in wrong_email.content.decode()
    assert message in unknown.content.decode()


def test_order_page_needs_a_lookup_in_this_browser(client, policy):
    order = make_order()

    assert client.get(reverse("refunds:order", args=[order.pk])).status_code == 404
    look_up(client)
    assert client.get(reverse("refunds:order", args=[order.pk])).status_code == 200


def test_live_check_shows_amount_in_htmx_partial(client, policy):
    order = make_order(lines=[("Mug", "12.00", 2, "MUG")])
    look_up(client)
    data = form_data(client, order, qty=2)

    response = client.post(
        reverse("refunds:check", args=[order.pk]), data, headers={"HX-Request": "true"}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<section id="eligibility"')
    assert "Eligible for review: $24.00" in page


def test_submit_twice_files_one_request(client, policy):
    order = make_order(lines=[("Mug", "12.00", 2, "MUG")])
    look_up(client)
    data = form_data(client, order)

    first = client.post(reverse("refunds:submit", args=[order.pk]), data)
    second = client.post(reverse("refunds:submit", args=[order.pk]), data)

    refund = RefundRequest.objects.get()
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert first.headers["Location"] == reverse("refunds:status", args=[refund.token])
    assert refund.reason_text == "Box arrived crushed 📦💥"
    assert order.lines.get().quantity_reserved == 1
    assert order.lines.get().quantity == 2


def test_submit_not_eligible_shows_reasons(client, policy):
    policy.non_refundable_skus = "MUG"
    policy.save()
    order = make_order(lines=[("Mug", "12.00", 2, "MUG"), ("Plate", "8.00", 1, "P")])
    look_up(client)
    data = form_data(client, order)

    response = client.post(reverse("refunds:submit", args=[order.pk]), data)

    assert response.status_code == 422
    assert "was sold as final sale" in response.content.decode()
    assert not RefundRequest.objects.exists()


def test_submit_without_reason_is_invalid(client, policy):
    order = make_order()
    look_up(client)
    data = form_data(client, order)
    data["reason_code"] = ""

    response = client.post(reverse("refunds:submit", args=[order.pk]), data)

    assert response.status_code == 422
    assert "Choose the reason for the refund." in response.content.decode()
    assert not RefundRequest.objects.exists()


def test_status_page_and_customer_message(client, policy):
    order = make_order()
    look_up(client)
    client.post(reverse("refunds:submit", args=[order.pk]), form_data(client, order))
    refund = RefundRequest.objects.get()

    page = client.get(reverse("refunds:status", args=[refund.token]))
    message = client.post(
        reverse("refunds:status-message", args=[refund.token]),
        {"body": "Any news? Zoë 🚀", "submission_key": "k1"},
        headers={"HX-Request": "true"},
    )
    empty = client.post(
        reverse("refunds:status-message", args=[refund.token]),
        {"body": "", "submission_key": "k2"},
    )

    assert page.status_code == 200
    assert "Request received for $10.00" in page.content.decode()
    assert message.status_code == 200
    assert "Any news? Zoë 🚀" in message.content.decode()
    assert empty.status_code == 422
    assert refund.case.messages.filter(kind=CaseMessage.Kind.CUSTOMER).count() == 2


def test_unknown_status_link_is_not_found(client, policy):
    assert client.get(reverse("refunds:status", args=["x" * 43])).status_code == 404
    assert (
        client.post(
            reverse("refunds:status-message", args=["x" * 43]), {"body": "Hi"}
        ).status_code
        == 404
    )


def test_lookups_are_rate_limited_per_address(client, policy):
    make_order()

    statuses = [look_up(client, number="#9999").status_code for _ in range(11)]

    assert statuses[:10] == [422] * 10
    assert statuses[10] == 429


def test_submission_key_of_another_order_reveals_nothing(client, policy):
    first = make_order("#1001")
    second = make_order("#1002")
    look_up(client, "#1001")
    data = form_data(client, first)
    client.post(reverse("refunds:submit", args=[first.pk]), data)
    look_up(client, "#1002")
    stolen = {**form_data(client, second), "submission_key": data["submission_key"]}

    response = client.post(reverse("refunds:submit", args=[second.pk]), stolen)

    assert response.status_code == 422
    assert "already sent for another order" in response.content.decode()
    assert RefundRequest.objects.get().token not in response.content.decode()
    assert RefundRequest.objects.count() == 1
