"""Case page work: tags, merging with undo, held replies, the customer sidebar."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import services
from cases.audit import Actor
from cases.merging import case_merge, case_merge_undo
from cases.models import AuditEvent, CaseMerge, CaseMessage, Customer, Order, Tag
from cases.selectors import customer_lifetime
from cases.tagging import case_tag_add, case_tag_remove
from cases.tests.factories import make_case, make_refund_request
from refunds.models import RefundRequest
from supportdesk.errors import DomainError, StateConflict


def detail(case) -> str:
    return reverse("cases:detail", args=[case.reference])


def test_tag_is_created_once_ignoring_case(agent, refunds_team):
    first, second = make_case(refunds_team), make_case(refunds_team)

    case_tag_add(case=first, actor=Actor.for_agent(agent), name="VIP")
    case_tag_add(case=second, actor=Actor.for_agent(agent), name="  vip ")

    assert Tag.objects.count() == 1
    assert list(second.tags.values_list("name", flat=True)) == ["VIP"]


def test_tagging_keeps_the_version_and_writes_audit(agent, refunds_team):
    case = make_case(refunds_team)

    tag = case_tag_add(case=case, actor=Actor.for_agent(agent), name="Damaged")
    case_tag_remove(case=case, actor=Actor.for_agent(agent), tag=tag)

    case.refresh_from_db()
    assert case.version == 1
    actions = list(
        AuditEvent.objects.filter(case=case, action__startswith="cases.tag")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["cases.tag.added", "cases.tag.removed"]


@pytest.mark.parametrize("name", ["", "   ", "x" * 51, "bell\x07"])
def test_invalid_tag_names_are_rejected(agent, refunds_team, name):
    case = make_case(refunds_team)

    with pytest.raises(DomainError):
        case_tag_add(case=case, actor=Actor.for_agent(agent), name=name)

    assert Tag.objects.count() == 0


def test_tag_views_add_and_remove(agent_client, refunds_team):
    case = make_case(refunds_team)

    agent_client.post(reverse("cases:tag-add", args=[case.reference]), {"tag": "Late"})
    tag = Tag.objects.get(name="Late")
    page = agent_client.get(detail(case))
    agent_client.post(
        reverse("cases:tag-remove", args=[case.reference]), {"tag": tag.pk}
    )

    assert b'aria-label="Remove tag Late"' in page.content
    assert case.tags.count() == 0


def test_merge_moves_thread_tags_and_refund(agent, refunds_team):
    actor = Actor.for_agent(agent)
    order = Order.objects.create(
        number="#7", number_key="7", currency="USD", financial_status="paid"
    )
    source = make_case(refunds_team, body="First copy")
    target = make_case(refunds_team, body="Second copy")
    case_tag_add(case=source, actor=actor, name="duplicate")
    refund = make_refund_request(source, order)

    merge = case_merge(source=source, target=target, actor=actor)

    source.refresh_from_db()
    assert source.status == "closed"
    assert source.merged_into == target
    assert list(target.messages.values_list("body", flat=True)) == [
        "First copy",
        "Second copy",
    ]
    assert list(target.tags.values_list("name", flat=True)) == ["duplicate"]
    assert RefundRequest.objects.get(pk=refund.pk).case == target
    assert merge.moved_refund is True
    assert AuditEvent.objects.filter(action="cases.case.merged").count() == 2


def test_merged_reference_redirects_to_target(agent_client, agent, refunds_team):
    source, target = make_case(refunds_team), make_case(refunds_team)
    case_merge(source=source, target=target, actor=Actor.for_agent(agent))

    response = agent_client.get(detail(source))

    assert response.status_code == 302
    assert response["Location"] == detail(target)


def test_merge_into_itself_or_closed_case_is_rejected(agent, refunds_team):
    actor = Actor.for_agent(agent)
    case, closed = make_case(refunds_team), make_case(refunds_team)
    services.case_change_status(case=closed, actor=actor, status="solved")
    services.case_change_status(case=closed, actor=actor, status="closed")

    with pytest.raises(DomainError, match="into itself"):
        case_merge(source=case, target=case, actor=actor)
    with pytest.raises(StateConflict, match="closed"):
        case_merge(source=case, target=closed, actor=actor)

    assert CaseMerge.objects.count() == 0
    case.refresh_from_db()
    assert case.status == "open"


def test_undo_restores_both_cases(agent, refunds_team):
    actor = Actor.for_agent(agent)
    source = make_case(refunds_team, body="From source")
    target = make_case(refunds_team, body="From target")
    services.case_change_status(case=source, actor=actor, status="pending")
    case_tag_add(case=source, actor=actor, name="dup")
    merge = case_merge(source=source, target=target, actor=actor)
    services.case_add_note(case=target, actor=actor, body="Notes do not block undo")

    case_merge_undo(merge=merge, actor=actor)

    source.refresh_from_db()
    assert source.status == "pending"
    assert source.merged_into is None
    assert list(source.messages.values_list("body", flat=True)) == ["From source"]
    assert set(target.messages.values_list("body", flat=True)) == {
        "From target",
        "Notes do not block undo",
    }
    assert target.tags.count() == 0
    assert CaseMerge.objects.get(pk=merge.pk).undone_at is not None


def test_undo_is_rejected_after_a_reply(agent, refunds_team):
    actor = Actor.for_agent(agent)
    source, target = make_case(refunds_team), make_case(refunds_team)
    merge = case_merge(source=source, target=target, actor=actor)
    services.case_reply(case=target, actor=actor, body="Answered the joined thread")

    with pytest.raises(StateConflict, match="can no longer be undone"):
        case_merge_undo(merge=merge, actor=actor)

    source.refresh_from_db()
    assert source.merged_into == target
    assert CaseMerge.objects.get(pk=merge.pk).undone_at is None


def test_merge_and_undo_views(agent_client, refunds_team):
    source, target = make_case(refunds_team), make_case(refunds_team)

    merged = agent_client.post(
        reverse("cases:merge", args=[source.reference]),
        {"target": target.reference},
        follow=True,
    )
    merge = CaseMerge.objects.get()
    undone = agent_client.post(
        reverse("cases:merge-undo", args=[target.reference, merge.pk]), follow=True
    )

    assert b"Undo this merge" in merged.content
    assert merged.redirect_chain[-1][0] == detail(target)
    assert b"is separate again" in undone.content
    source.refresh_from_db()
    assert source.merged_into is None


def test_merge_into_unknown_case_shows_a_field_error(agent_client, refunds_team):
    source = make_case(refunds_team)

    response = agent_client.post(
        reverse("cases:merge", args=[source.reference]), {"target": "C-999999"}
    )

    assert response.status_code == 422
    assert b"There is no case" in response.content
    assert CaseMerge.objects.count() == 0


def test_stale_reply_is_held_with_the_draft_kept(
    agent_client, agent, make_agent, refunds_team
):
    case = make_case(refunds_team)
    seen_version = case.version
    other = make_agent("Jo Other")
    services.case_reply(case=case, actor=Actor.for_agent(other), body="Jo answered")

    held = agent_client.post(
        reverse("cases:reply", args=[case.reference]),
        {"body": "My late answer", "version": seen_version},
        headers={"HX-Request": "true"},
    )

    assert held.status_code == 409
    html = held.content.decode()
    assert "changed while you were working on it" in html
    assert "My late answer</textarea>" in html
    assert "Jo answered" in html
    assert not CaseMessage.objects.filter(body="My late answer").exists()

    case.refresh_from_db()
    sent = agent_client.post(
        reverse("cases:reply", args=[case.reference]),
        {"body": "My late answer", "version": case.version},
    )

    assert sent.status_code == 302
    assert CaseMessage.objects.filter(body="My late answer").count() == 1


def test_held_form_carries_the_new_version(agent_client, agent, refunds_team):
    case = make_case(refunds_team)
    services.case_add_note(case=case, actor=Actor.for_agent(agent), body="note")

    held = agent_client.post(
        reverse("cases:reply", args=[case.reference]),
        {"body": "Draft", "version": 1},
    )

    case.refresh_from_db()
    assert f'name="version" value="{case.version}"'.encode() in held.content


def test_customer_lifetime_sums_every_order(db):
    customer = Customer.objects.create(key="email:l@example.test", name="Lu")
    for number, (paid, refunded, external) in enumerate(
        [(10_000, 2_500, 0), (5_000, 0, 500), (0, 0, 0)]
    ):
        Order.objects.create(
            number=f"#{number}",
            number_key=str(number),
            currency="EUR",
            financial_status="paid",
            customer=customer,
            paid_minor=paid,
            refunded_minor=refunded,
            external_refunded_minor=external,
        )
    Order.objects.create(
        number="#yen",
        number_key="yen",
        currency="JPY",
        financial_status="paid",
        customer=customer,
        paid_minor=1200,
    )

    euro, yen = customer_lifetime(customer.pk)

    assert (euro.currency, euro.orders) == ("EUR", 3)
    assert euro.paid.minor == 15_000
    assert euro.refunded.minor == 3_000
    assert str(euro.refund_ratio) == "0.2"
    assert (yen.currency, yen.paid.minor, yen.refunded.minor) == ("JPY", 1200, 0)


def test_case_page_shows_lifetime_value(agent_client, refunds_team):
    customer = Customer.objects.create(key="email:v@example.test", name="Val")
    order = Order.objects.create(
        number="#v1",
        number_key="v1",
        currency="USD",
        financial_status="paid",
        customer=customer,
        paid_minor=20_000,
        refunded_minor=5_000,
    )
    case = make_case(refunds_team, customer=customer, order=order)

    html = agent_client.get(detail(case)).content.decode()

    assert "Lifetime value" in html
    assert "$200.00" in html
    assert "25.0 %" in html


def test_case_page_queries_do_not_grow_with_history(agent_client, agent, refunds_team):
    customer = Customer.objects.create(key="email:h@example.test", name="Hal")
    case = make_case(refunds_team, customer=customer)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert agent_client.get(detail(case)).status_code == 200
        return len(captured)

    def add_history(number: int) -> None:
        Order.objects.create(
            number=f"#h{number}",
            number_key=f"h{number}",
            currency="USD",
            financial_status="paid",
            customer=customer,
        )
        make_case(refunds_team, customer=customer)
        services.case_add_note(case=case, actor=Actor.for_agent(agent), body="n")
        case_tag_add(case=case, actor=Actor.for_agent(agent), name=f"t{number}")

    add_history(0)
    small = queries()
    for number in range(1, 15):
        add_history(number)

    assert queries() == small
