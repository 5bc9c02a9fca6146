"""The public refund pages through Django's test client: lookup, form, status."""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

from cases.models import AuditEvent, CaseMessage, OrderLine, SupportCase
from refunds.forms import RefundRequestForm
from refunds.models import RefundRequest
from refunds.tests.factories import file_refund, make_order, recent_order
from supportdesk.tests.redis_down import REDIS_DOWN

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
XSS_NAME = "Zoë <img src=x onerror=alert(1)>"
XSS_TEXT = "</td><script>alert(document.cookie)</script>"


def look_up(client: Client, number: str, email: str, **kwargs):
    return client.post(
        reverse("refunds:start"), {"order_number": number, "email": email}, **kwargs
    )


def without_tokens(html: str) -> str:
    """Return ``html`` without CSRF tokens and the values typed in the form.

    The tokens differ on every response, and the form shows the input again.
    """
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    html = re.sub(r'"X-CSRFToken": "[^"]+"', "", html)
    return re.sub(r'value="[^"]*"', "", html)


def quantity_field(order, name: str) -> str:
    return f"qty-{order.lines.get(name=name).pk}"


def refund_post(order, key: str = "key-1", **quantities) -> dict:
    """Return the form data of a refund request; quantities by field name."""
    data = {"reason_code": "damaged", "reason_text": "", "submission_key": key}
    for line in order.lines.all():
        data[f"qty-{line.pk}"] = "0"
    data.update(quantities)
    return data


@pytest.fixture
def order(policy, refunds_team):
    return recent_order()


@pytest.fixture
def customer(client, order):
    """A browser that has looked the order up."""
    response = look_up(client, "#1001", "ana.tester@example.com")
    assert response.status_code == 302
    return client


# Lookup


@pytest.mark.parametrize("number", ["#1001", "1001", "  #1001 "])
@pytest.mark.parametrize("email", ["ana.tester@example.com", "ANA.Tester@Example.COM"])
def test_lookup_ignores_case_and_hash(client, order, number, email):
    response = look_up(client, number, email)

    assert response.status_code == 302
    assert response["Location"] == reverse("refunds:order", args=[order.pk])


def test_lookup_failure_same_for_number_and_email(client, order):
    recent_order("#1002", "bo.tester@example.com")

    wrong_number = look_up(client, "#9999", "ana.tester@example.com")
    wrong_email = look_up(client, "#1001", "bo.tester@example.com")
    unknown_both = look_up(client, "#9999", "nobody@example.com")

    assert wrong_number.status_code == 422
    assert wrong_email.status_code == 422
    assert unknown_both.status_code == 422
    first = without_tokens(wrong_number.content.decode())
    assert "could not find an order with that number and email" in first
    assert without_tokens(wrong_email.content.decode()) == first
    assert without_tokens(unknown_both.content.decode()) == first


def test_lookup_failure_opens_no_order(client, order):
    look_up(client, "#1001", "bo.tester@example.com")

    response = client.get(reverse("refunds:order", args=[order.pk]))

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("number", "email", "message"),
    [
        ("", "ana.tester@example.com", "Enter your order number"),
        ("#1001", "", "Enter the email address you used"),
        ("#1001", "not-an-email", "Enter an email address in the form"),
        ("#" + "9" * 10_000, "ana.tester@example.com", "at most 64 characters"),
        ("#1001", "a" * 10_000 + "@example.com", "at most 254 characters"),
        ("<script>alert(1)</script>", "ana.tester@example.com", "could not find"),
    ],
)
def test_lookup_bad_input_answers_422(client, order, number, email, message):
    response = look_up(client, number, email)

    assert response.status_code == 422
    assert message in response.content.decode()
    assert "<script>alert(1)</script>" not in response.content.decode()


def test_lookup_rate_limited_per_email(client, order):
    for _ in range(10):
        assert look_up(client, "#9999", "ana.tester@example.com").status_code == 422

    response = look_up(client, "#1001", "ana.tester@example.com")

    assert response.status_code == 429
    assert "Too many lookups" in response.content.decode()
    assert "refund_orders" not in client.session


def test_lookup_rate_limited_per_address(client, order):
    for number in range(20):
        look_up(client, f"#{number}", f"guess{number}@example.com")

    response = look_up(client, "#1001", "ana.tester@example.com")

    assert response.status_code == 429


def test_lookup_limit_counts_other_address_apart(client, order):
    for number in range(20):
        look_up(client, f"#{number}", f"guess{number}@example.com")

    response = look_up(
        client, "#1001", "ana.tester@example.com", REMOTE_ADDR="203.0.113.9"
    )

    assert response.status_code == 302


def test_lookup_works_while_redis_is_down(client, order):
    """Rate limits fail open: an outage must not turn every customer away."""
    with override_settings(CACHES=REDIS_DOWN):
        response = look_up(client, "#1001", "ana.tester@example.com")

    assert response.status_code == 302
    assert "refund_orders" in client.session


def test_lookup_rate_limit_swapped_by_htmx(client, order):
    for _ in range(10):
        look_up(client, "#9999", "ana.tester@example.com")

    response = look_up(client, "#9999", "ana.tester@example.com", headers=HTMX)

    assert response.status_code == 429
    assert "Too many lookups" in response.content.decode()


# Order page and the live eligibility check


def test_order_page_needs_lookup(client, order):
    response = client.get(reverse("refunds:order", args=[order.pk]))

    assert response.status_code == 404


def test_order_page_lookup_does_not_open_other_orders(customer, order):
    other = recent_order("#1002", "bo.tester@example.com")

    for name in ("refunds:order", "refunds:check", "refunds:submit"):
        method = customer.get if name == "refunds:order" else customer.post
        response = method(reverse(name, args=[other.pk]))
        assert response.status_code == 404, name


def test_order_page_shows_quantity_left(customer, order):
    file_refund(order, {"Blue Mug": 1})

    response = customer.get(reverse("refunds:order", args=[order.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    mug = order.lines.get(name="Blue Mug")
    assert f'name="qty-{mug.pk}"' in html
    assert f'max="{mug.quantity - 1}"' in html
    assert re.search(r'<td class="num">2</td>\s*<td class="num">1</td>', html)


def test_order_page_fully_requested_line_not_offered(customer, order):
    file_refund(order, {"Tea Towel": 1})

    response = customer.get(reverse("refunds:order", args=[order.pk]))

    html = response.content.decode()
    towel = order.lines.get(name="Tea Towel")
    assert "Already requested" in html
    assert f'name="qty-{towel.pk}"' not in html


def test_check_by_htmx_returns_fragment(customer, order):
    data = refund_post(order, **{quantity_field(order, "Blue Mug"): "1"})

    response = customer.post(
        reverse("refunds:check", args=[order.pk]), data, headers=HTMX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="eligibility"')
    assert "<html" not in html
    assert "Eligible for review: $12.00" in html
    assert "Our team will review your request." in html
    assert response["Vary"].count("HX-Request") == 1


def test_check_without_javascript_returns_page(customer, order):
    data = refund_post(order, **{quantity_field(order, "Blue Mug"): "2"})

    response = customer.post(reverse("refunds:check", args=[order.pk]), data)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert "Eligible for review: $24.00" in html
    assert 'value="2"' in html
    assert not RefundRequest.objects.exists()


def test_check_reports_quantity_left(customer, order):
    file_refund(order, {"Blue Mug": 1})
    data = refund_post(order, **{quantity_field(order, "Blue Mug"): "2"})

    response = customer.post(
        reverse("refunds:check", args=[order.pk]), data, headers=HTMX
    )

    assert response.status_code == 200
    assert "Not eligible" in response.content.decode()
    assert "Blue Mug: only 1 of 2 can still be refunded." in response.content.decode()


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("-1", "Blue Mug: the quantity cannot be negative."),
        ("abc", "Blue Mug: enter a whole number of items, such as 1."),
        ("1.5", "Blue Mug: enter a whole number of items, such as 1."),
        ("3", "Blue Mug: you ordered 2; enter at most 2."),
        ("9" * 40, "Blue Mug: you ordered 2; enter at most 2."),
    ],
)
def test_check_bad_quantity_answers_422(customer, order, quantity, message):
    data = refund_post(order, **{quantity_field(order, "Blue Mug"): quantity})

    response = customer.post(
        reverse("refunds:check", args=[order.pk]), data, headers=HTMX
    )

    assert response.status_code == 422
    assert message in response.content.decode()


def test_check_error_has_id_the_input_can_use(customer, order):
    field = quantity_field(order, "Blue Mug")
    data = refund_post(order, **{field: "3"})

    response = customer.post(
        reverse("refunds:check", args=[order.pk]), data, headers=HTMX
    )

    html = response.content.decode()
    assert f'<p class="error-message" id="id_{field}_error">' in html
    assert html.count(f'id="id_{field}_error"') == 1


def test_submit_error_marks_its_input(customer, order):
    field = quantity_field(order, "Blue Mug")
    data = refund_post(order, **{field: "3"})

    response = customer.post(reverse("refunds:submit", args=[order.pk]), data)

    html = response.content.decode()
    assert f'aria-invalid="true" aria-describedby="id_{field}_error"' in html
    assert html.count(f'id="id_{field}_error"') == 1
    assert "Blue Mug: you ordered 2; enter at most 2." in html


def test_quantity_error_escapes_percent_in_name(policy):
    order = make_order("#1301", lines=[("100% Wool Scarf", "20.00", 1, "SC")])
    line = order.lines.get()
    form = RefundRequestForm(
        {"reason_code": "damaged", "submission_key": "k", f"qty-{line.pk}": "5"},
        lines=[line],
    )

    assert form.errors[f"qty-{line.pk}"] == [
        "100% Wool Scarf: you ordered 1; enter at most 1."
    ]


def test_check_nothing_chosen_says_so(customer, order):
    response = customer.post(
        reverse("refunds:check", args=[order.pk]), refund_post(order), headers=HTMX
    )

    assert response.status_code == 200
    assert "Choose at least one item" in response.content.decode()


# Submitting


def test_submit_creates_request_and_case(customer, order):
    data = refund_post(order, **{quantity_field(order, "Blue Mug"): "2"})
    data["reason_text"] = "Both mugs arrived cracked."

    response = customer.post(reverse("refunds:submit", args=[order.pk]), data)

    refund = RefundRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("refunds:status", args=[refund.token])
    assert len(refund.token) >= 43
    assert refund.requested_minor == 2400
    assert refund.reason_text == "Both mugs arrived cracked."
    assert [(line.order_line.name, line.quantity) for line in refund.lines.all()] == [
        ("Blue Mug", 2)
    ]
    case = refund.case
    assert case.team.handles_refunds
    assert case.status == SupportCase.Status.OPEN
    assert case.assignee is None
    assert case.messages.get().kind == CaseMessage.Kind.CUSTOMER
    assert order.lines.get(name="Blue Mug").quantity_reserved == 2


def test_submit_then_status_shows_reference(customer, order):
    data = refund_post(order, **{quantity_field(order, "Tea Towel"): "1"})

    response = customer.post(
        reverse("refunds:submit", args=[order.pk]), data, follow=True
    )

    refund = RefundRequest.objects.get()
    html = response.content.decode()
    assert response.status_code == 200
    assert f"Refund request {refund.reference}" in html
    assert "Awaiting decision" in html
    assert "Request received for $8.00" in html


def test_submit_twice_files_one_request(customer, order):
    data = refund_post(order, **{quantity_field(order, "Blue Mug"): "1"})
    url = reverse("refunds:submit", args=[order.pk])

    first = customer.post(url, data)
    second = customer.post(url, data)

    assert first.status_code == 302
    assert second.status_code == 302
    assert second["Location"] == first["Location"]
    assert RefundRequest.objects.count() == 1
    assert SupportCase.objects.count() == 1
    assert order.lines.get(name="Blue Mug").quantity_reserved == 1


def test_submit_status_tokens_unguessable(customer, order):
    url = reverse("refunds:submit", args=[order.pk])
    customer.post(
        url, refund_post(order, "a", **{quantity_field(order, "Blue Mug"): "1"})
    )
    customer.post(
        url, refund_post(order, "b", **{quantity_field(order, "Blue Mug"): "1"})
    )

    first, second = RefundRequest.objects.order_by("pk")

    assert first.token != second.token
    assert str(first.pk) not in first.token or len(first.token) >= 43
    assert (
        Client().get(reverse("refunds:status", args=[first.token[:-1]])).status_code
        == 404
    )


def assert_nothing_filed(order) -> None:
    assert not RefundRequest.objects.exists()
    assert not SupportCase.objects.exists()
    assert not OrderLine.objects.filter(order=order, quantity_reserved__gt=0).exists()


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("-1", "Blue Mug: the quantity cannot be negative."),
        ("abc", "Blue Mug: enter a whole number of items, such as 1."),
        ("3", "Blue Mug: you ordered 2; enter at most 2."),
        ("0", "Choose at least one item and how many of it to return."),
    ],
)
def test_submit_bad_quantity_files_nothing(customer, order, quantity, message):
    data = refund_post(order, **{quantity_field(order, "Blue Mug"): quantity})

    response = customer.post(reverse("refunds:submit", args=[order.pk]), data)

    assert response.status_code == 422
    assert message in response.content.decode()
    assert_nothing_filed(order)


def test_submit_above_quantity_left_files_nothing(customer, order):
    file_refund(order, {"Blue Mug": 1})
    data = refund_post(order, **{quantity_field(order, "Blue Mug"): "2"})

    response = customer.post(reverse("refunds:submit", args=[order.pk]), data)

    assert response.status_code == 422
    assert "only 1 of 2 can still be refunded" in response.content.decode()
    assert RefundRequest.objects.count() == 1
    assert order.lines.get(name="Blue Mug").quantity_reserved == 1


def test_submit_long_reason_files_nothing(customer, order):
    data = refund_post(order, **{quantity_field(order, "Blue Mug"): "1"})
    data["reason_text"] = "x" * 10_000

    response = customer.post(reverse("refunds:submit", args=[order.pk]), data)

    assert response.status_code == 422
    assert "at most 2000 characters (it has 10000)" in response.content.decode()
    assert_nothing_filed(order)


@pytest.mark.parametrize("reason_code", ["", "bogus", "<b>damaged</b>"])
def test_submit_unknown_reason_files_nothing(customer, order, reason_code):
    data = refund_post(order, **{quantity_field(order, "Blue Mug"): "1"})
    data["reason_code"] = reason_code

    response = customer.post(reverse("refunds:submit", args=[order.pk]), data)

    assert response.status_code == 422
    assert "<b>damaged</b>" not in response.content.decode()
    assert_nothing_filed(order)


def test_submit_missing_key_files_nothing(customer, order):
    data = refund_post(order, **{quantity_field(order, "Blue Mug"): "1"})
    del data["submission_key"]

    response = customer.post(reverse("refunds:submit", args=[order.pk]), data)

    assert response.status_code == 422
    assert_nothing_filed(order)


def test_submit_without_lookup_is_404(client, order):
    data = refund_post(order, **{quantity_field(order, "Blue Mug"): "1"})

    response = client.post(reverse("refunds:submit", args=[order.pk]), data)

    assert response.status_code == 404
    assert_nothing_filed(order)


def test_submit_get_not_allowed(customer, order):
    response = customer.get(reverse("refunds:submit", args=[order.pk]))

    assert response.status_code == 405


# Text as typed: HTML stays text, emoji and accents stay exact


def test_status_page_escapes_html(policy, refunds_team):
    order = recent_order(billing_name=XSS_NAME)
    refund = file_refund(order, reason_text=XSS_TEXT)

    response = Client().get(reverse("refunds:status", args=[refund.token]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;/td&gt;&lt;script&gt;alert(document.cookie)&lt;/script&gt;" in html


@pytest.mark.parametrize(
    "text",
    [
        "Box arrived crushed 📦💥, family 👨\u200d👩\u200d👧 upset",
        "Remboursement demandé — colis abîmé, commande #1032",
    ],
)
def test_submit_keeps_text_exactly(customer, order, text):
    data = refund_post(order, **{quantity_field(order, "Blue Mug"): "1"})
    data["reason_text"] = text

    response = customer.post(
        reverse("refunds:submit", args=[order.pk]), data, follow=True
    )

    refund = RefundRequest.objects.get()
    assert refund.reason_text == text
    assert text in refund.case.messages.get().body
    assert text in response.content.decode()


# Status page


def test_status_unknown_token_is_404(client, order):
    refund = file_refund(order)

    changed = refund.token[:-1] + ("B" if refund.token.endswith("A") else "A")

    for token in ("", "x", changed, str(refund.pk), "a" * 65):
        response = client.get(f"/refund/status/{token}/")
        assert response.status_code == 404, token
        assert "Ana Tester" not in response.content.decode()


def test_status_shows_decision_and_timeline(client, order, agent):
    from cases.audit import Actor
    from refunds.services import refund_approve

    refund = file_refund(order, {"Blue Mug": 2})
    refund_approve(
        refund=refund,
        actor=Actor.for_agent(agent),
        amount_minor=1800,
        reason="One mug was fine.",
    )

    response = client.get(reverse("refunds:status", args=[refund.token]))

    html = response.content.decode()
    assert 'badge--approved">Approved<' in html
    assert "Approved: $18.00 of the $24.00 requested" in html
    assert "One mug was fine." in html
    assert html.index("Request received") < html.index("Approved: $18.00")


def test_status_shows_rejection_reason(client, order, agent):
    from cases.audit import Actor
    from refunds.services import refund_reject

    refund = file_refund(order)
    refund_reject(refund=refund, actor=Actor.for_agent(agent), reason="Used item.")

    response = client.get(reverse("refunds:status", args=[refund.token]))

    html = response.content.decode()
    assert 'badge--rejected">Rejected<' in html
    assert "Not approved" in html
    assert "Used item." in html


def test_status_hides_internal_notes(client, order, agent):
    from cases.audit import Actor
    from cases.services import case_add_note, case_reply

    refund = file_refund(order)
    assert refund.case is not None
    case_add_note(case=refund.case, actor=Actor.for_agent(agent), body="Looks fishy")
    case_reply(case=refund.case, actor=Actor.for_agent(agent), body="We are on it.")

    html = client.get(reverse("refunds:status", args=[refund.token])).content.decode()

    assert "Looks fishy" not in html
    assert "We are on it." in html
    assert "Alex Agent replied" in html


def test_status_message_plain_post(client, order):
    refund = file_refund(order)
    url = reverse("refunds:status-message", args=[refund.token])

    response = client.post(url, {"body": "Any news? 🙂", "submission_key": "k1"})

    assert response.status_code == 302
    assert response["Location"] == reverse("refunds:status", args=[refund.token])
    message = refund.case.messages.latest("id")
    assert message.kind == CaseMessage.Kind.CUSTOMER
    assert message.body == "Any news? 🙂"
    assert message.author_name == "Ana Tester"


def test_status_message_by_htmx_returns_timeline(client, order):
    refund = file_refund(order)
    url = reverse("refunds:status-message", args=[refund.token])

    response = client.post(
        url, {"body": "<b>Any news?</b>", "submission_key": "k1"}, headers=HTMX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="timeline"')
    assert "&lt;b&gt;Any news?&lt;/b&gt;" in html
    assert "<b>Any news?</b>" not in html


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "Write a message before sending."),
        ("   ", "Write a message before sending."),
        ("x" * 10_000, "at most 5000 characters (it has 10000)"),
    ],
)
def test_status_message_bad_body_adds_nothing(client, order, body, message):
    refund = file_refund(order)
    url = reverse("refunds:status-message", args=[refund.token])

    response = client.post(url, {"body": body, "submission_key": "k1"}, headers=HTMX)

    assert response.status_code == 422
    assert message in response.content.decode()
    assert refund.case.messages.count() == 1


def test_status_message_sent_twice_is_stored_once(client, order):
    refund = file_refund(order)
    url = reverse("refunds:status-message", args=[refund.token])
    page = client.get(reverse("refunds:status", args=[refund.token]))
    key = page.context["message_form"].initial["submission_key"]
    data = {"body": "Any news?", "submission_key": key}

    first = client.post(url, data)
    second = client.post(url, data)

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert refund.case.messages.filter(body="Any news?").count() == 1
    assert f'name="submission_key" value="{key}"' in page.content.decode()


def test_status_message_new_form_gets_new_key(client, order):
    refund = file_refund(order)
    url = reverse("refunds:status-message", args=[refund.token])

    response = client.post(
        url, {"body": "Any news?", "submission_key": "k1"}, headers=HTMX
    )

    assert 'name="submission_key" value="k1"' not in response.content.decode()


def test_status_message_key_of_another_case_rejected(client, order):
    first = file_refund(order, {"Blue Mug": 1})
    second = file_refund(order, {"Tea Towel": 1})
    data = {"body": "Any news?", "submission_key": "k1"}
    client.post(reverse("refunds:status-message", args=[first.token]), data)

    response = client.post(reverse("refunds:status-message", args=[second.token]), data)

    assert response.status_code == 422
    assert "already sent for another request" in response.content.decode()
    assert "Any news?" not in [m.body for m in second.case.messages.all()]


def test_status_message_without_key_rejected(client, order):
    refund = file_refund(order)
    url = reverse("refunds:status-message", args=[refund.token])

    response = client.post(url, {"body": "Any news?"})

    assert response.status_code == 422
    assert "This page is out of date." in response.content.decode()
    assert refund.case.messages.count() == 1


def test_status_message_unknown_token_is_404(client, order):
    response = client.post("/refund/status/nope/messages/", {"body": "hi"})

    assert response.status_code == 404


def test_status_message_closed_case_rejected(client, order, agent):
    from cases.audit import Actor
    from cases.services import case_change_status

    refund = file_refund(order)
    actor = Actor.for_agent(agent)
    assert refund.case is not None
    case_change_status(case=refund.case, actor=actor, status="solved")
    case_change_status(case=refund.case, actor=actor, status="closed")
    url = reverse("refunds:status-message", args=[refund.token])

    page = client.get(reverse("refunds:status", args=[refund.token]))
    response = client.post(url, {"body": "Hello?", "submission_key": "k1"})

    assert "Write to our team" not in page.content.decode()
    assert response.status_code == 409
    assert "This case is closed." in response.content.decode()
    assert refund.case.messages.count() == 1


# Double clicks that reach two workers at once


def post_together(posts: list) -> list:
    """Send each (client, url, data) POST from its own thread at one moment."""
    barrier = threading.Barrier(len(posts))
    responses: list = [None] * len(posts)

    def send(index, client, url, data):
        try:
            barrier.wait(timeout=5)
            responses[index] = client.post(url, data, headers=HTMX)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=send, args=(index, *post))
        for index, post in enumerate(posts)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return responses


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_parallel_submissions_file_one_request(policy, refunds_team):
    order = recent_order()
    browser = Client()
    look_up(browser, "#1001", "ana.tester@example.com")
    data = refund_post(order, **{quantity_field(order, "Blue Mug"): "1"})
    url = reverse("refunds:submit", args=[order.pk])

    responses = post_together([(browser, url, data), (browser, url, data)])

    refund = RefundRequest.objects.get()
    assert [r.status_code for r in responses] == [302, 302]
    assert {r["Location"] for r in responses} == {
        reverse("refunds:status", args=[refund.token])
    }
    assert SupportCase.objects.count() == 1
    assert order.lines.get(name="Blue Mug").quantity_reserved == 1


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_parallel_status_messages_store_one(policy, refunds_team):
    order = recent_order()
    refund = file_refund(order)
    url = reverse("refunds:status-message", args=[refund.token])
    data = {"body": "Any news?", "submission_key": "double-click"}

    responses = post_together([(Client(), url, data), (Client(), url, data)])

    assert [r.status_code for r in responses] == [200, 200]
    assert refund.case.messages.filter(body="Any news?").count() == 1


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_parallel_approvals_approve_once(policy, refunds_team, agent):
    order = recent_order()
    refund = file_refund(order, {"Blue Mug": 2})
    clients = [Client(), Client()]
    for client in clients:
        client.force_login(agent.user)
    url = reverse("refunds:approve", args=[refund.reference])
    data = {"amount": "24.00", "reason": ""}

    responses = post_together([(client, url, data) for client in clients])

    refund.refresh_from_db()
    order.refresh_from_db()
    assert sorted(r.status_code for r in responses) == [200, 409]
    conflict = next(r for r in responses if r.status_code == 409)
    assert (
        f"Refund {refund.reference} is already approved." in conflict.content.decode()
    )
    assert refund.approved_minor == 2400
    assert order.refunded_minor == 2400
    assert AuditEvent.objects.filter(action="refunds.refund.approved").count() == 1


def test_lookup_limit_reads_proxy_header(client, order, settings):
    settings.RATELIMIT_IP_META_KEY = "HTTP_X_REAL_IP"
    for number in range(20):
        look_up(
            client,
            f"#{number}",
            f"guess{number}@example.com",
            headers={"X-Real-IP": "198.51.100.7"},
        )

    other = look_up(
        client, "#1001", "ana.tester@example.com", headers={"X-Real-IP": "203.0.113.9"}
    )
    same = look_up(
        client, "#1001", "ana.tester@example.com", headers={"X-Real-IP": "198.51.100.7"}
    )

    assert other.status_code == 302
    assert same.status_code == 429
