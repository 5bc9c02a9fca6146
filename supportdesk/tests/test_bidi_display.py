"""Bidi control characters shown as markers on staff pages, not applied."""

import pytest
from django.template import Context, Template
from django.urls import reverse

from cases.audit import Actor
from cases.models import CaseMessage
from refunds.services import refund_escalate, refund_request_create
from refunds.tests.factories import make_order
from supportdesk.bidi_display import show_bidi_controls

OVERRIDE = "\u202e"
OVERRIDE_MARKER = (
    '<span class="bidi-mark" title="Invisible right-to-left override character '
    '(U+202E) in the stored text, shown here instead of applied">[U+202E]</span>'
)


def test_every_control_becomes_marker():
    controls = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"

    html = show_bidi_controls(f"a{controls}b")

    for code in ["202A", "202B", "202C", "202D", "202E", "2066", "2067", "2068"]:
        assert f">[U+{code}]</span>" in html
    assert ">[U+2069]</span>b" in html
    for character in controls:
        assert character not in html


def test_markers_escape_text():
    html = show_bidi_controls(f"<script>alert(1)</script> {OVERRIDE}evil")

    assert html == f"&lt;script&gt;alert(1)&lt;/script&gt; {OVERRIDE_MARKER}evil"


def test_other_text_unchanged():
    text = "Zoë 🚀 שלום مرحبا \u200f"

    assert show_bidi_controls(text) == text


def test_filter_before_linebreaksbr():
    template = Template("{% load desk %}{{ body|bidi_visible|linebreaksbr }}")

    html = template.render(Context({"body": f"one {OVERRIDE}x\n<b>two</b>"}))

    assert html == f"one {OVERRIDE_MARKER}x<br>&lt;b&gt;two&lt;/b&gt;"


@pytest.fixture
def spoofed_refund(db, policy):
    order = make_order(lines=[("Coat", "150.00", 1, "COAT")])
    return refund_request_create(
        order=order,
        selection={order.lines.get().pk: 1},
        reason_code="damaged",
        reason_text=f"Colour is different {OVERRIDE}evil.exe",
        actor=Actor.customer("Ana Tester"),
    )


@pytest.mark.django_db
def test_case_thread_shows_markers(client, agent, spoofed_refund):
    client.force_login(agent.user)

    html = client.get(
        reverse("cases:detail", args=[spoofed_refund.case.reference])
    ).content.decode()

    assert f"Colour is different {OVERRIDE_MARKER}evil.exe" in html
    assert OVERRIDE not in html
    stored = CaseMessage.objects.get(case=spoofed_refund.case).body
    assert f"{OVERRIDE}evil.exe" in stored


@pytest.mark.django_db
def test_escalation_note_shows_markers(client, agent, supervisor, spoofed_refund):
    refund_escalate(
        refund=spoofed_refund,
        actor=Actor.for_agent(agent),
        amount_minor=12000,
        note=f"Customer says {OVERRIDE}fdp.txt",
    )
    client.force_login(supervisor.user)

    case_page = client.get(
        reverse("cases:detail", args=[spoofed_refund.case.reference])
    ).content.decode()
    admin_list = client.get(
        reverse("admin:refunds_awaitingsupervisor_changelist")
    ).content.decode()

    assert f"<bdi>Customer says {OVERRIDE_MARKER}fdp.txt</bdi>" in case_page
    assert f"<bdi>Customer says {OVERRIDE_MARKER}fdp.txt</bdi>" in admin_list
    assert OVERRIDE not in case_page
    assert OVERRIDE not in admin_list


@pytest.mark.django_db
def test_admin_change_pages_show_markers(client, supervisor, spoofed_refund):
    client.force_login(supervisor.user)

    refund_page = client.get(
        reverse("admin:refunds_refundrequest_change", args=[spoofed_refund.pk])
    ).content.decode()
    case_page = client.get(
        reverse("admin:cases_supportcase_change", args=[spoofed_refund.case.pk])
    ).content.decode()

    assert f"Colour is different {OVERRIDE_MARKER}evil.exe" in refund_page
    assert f"Colour is different {OVERRIDE_MARKER}evil.exe" in case_page
    assert OVERRIDE not in refund_page
    assert OVERRIDE not in case_page
