"""Presence and typing on a case, through the cache or Redis, and its outage."""

import time

import time_machine
from django.test import override_settings
from django.urls import reverse

from cases import presence, services
from cases.audit import Actor
from cases.presence import presence_touch
from cases.tests.factories import make_case
from supportdesk import cache_breaker
from supportdesk.tests.redis_down import REDIS_DOWN


def test_agents_see_each_other_but_not_themselves(db):
    presence_touch(case_id=7, agent_id=1, name="Alex")

    seen_by_jo = presence_touch(case_id=7, agent_id=2, name="Jo")
    seen_by_alex = presence_touch(case_id=7, agent_id=1, name="Alex")

    assert [(v.agent_id, v.name, v.typing) for v in seen_by_jo] == [(1, "Alex", False)]
    assert [v.name for v in seen_by_alex] == ["Jo"]


def test_presence_is_per_case(db):
    presence_touch(case_id=7, agent_id=1, name="Alex")

    assert presence_touch(case_id=8, agent_id=2, name="Jo") == []


def test_typing_and_presence_expire(db):
    start = time.time()
    with time_machine.travel(start, tick=False):
        presence_touch(case_id=7, agent_id=1, name="Alex", typing=True)
        typing_now = presence_touch(case_id=7, agent_id=2, name="Jo")
    with time_machine.travel(start + presence.TYPING_TTL + 1, tick=False):
        typing_later = presence_touch(case_id=7, agent_id=2, name="Jo")
    with time_machine.travel(start + presence.PRESENCE_TTL + 1, tick=False):
        gone = presence_touch(case_id=7, agent_id=2, name="Jo")

    assert typing_now[0].typing is True
    assert typing_later[0].typing is False
    assert gone == []


def test_heartbeat_keeps_typing_flag(db):
    presence_touch(case_id=7, agent_id=1, name="Alex", typing=True)
    presence_touch(case_id=7, agent_id=1, name="Alex")

    assert presence_touch(case_id=7, agent_id=2, name="Jo")[0].typing is True


def test_presence_view_shows_other_agent_and_change(
    agent_client, make_agent, refunds_team
):
    case = make_case(refunds_team)
    jo = make_agent("Jo Agent")
    presence_touch(case_id=case.pk, agent_id=jo.pk, name="Jo Agent", typing=True)
    seen = case.version
    services.case_reply(case=case, actor=Actor.for_agent(jo), body="Done")

    response = agent_client.post(
        reverse("cases:presence", args=[case.reference]), {"version": seen}
    )

    html = response.content.decode()
    assert "<strong>Jo Agent</strong>" in html
    assert "(typing…)" in html
    assert "This case changed after you opened it, last by Jo Agent" in html
    assert "<html" not in html


def test_presence_view_without_change_has_no_warning(agent_client, refunds_team):
    case = make_case(refunds_team)

    response = agent_client.post(
        reverse("cases:presence", args=[case.reference]), {"version": case.version}
    )

    assert b"changed after you opened it" not in response.content


def test_case_page_lists_agents_already_there(agent_client, make_agent, refunds_team):
    case = make_case(refunds_team)
    presence_touch(case_id=case.pk, agent_id=999, name="Someone Else")

    page = agent_client.get(reverse("cases:detail", args=[case.reference]))

    assert b"Also on this case:" in page.content
    assert b"<strong>Someone Else</strong>" in page.content


def test_pages_work_while_redis_is_down(agent_client, refunds_team, caplog):
    case = make_case(refunds_team)

    with override_settings(CACHES=REDIS_DOWN):
        viewers = presence_touch(case_id=case.pk, agent_id=1, name="Alex")
        skipped = cache_breaker.is_open()
        page = agent_client.get(reverse("cases:detail", args=[case.reference]))
        queue = agent_client.get(reverse("cases:queue"))

    assert viewers == []
    assert skipped is True
    assert page.status_code == 200
    assert queue.status_code == 200
    assert "Redis failed, skipping it for 30 seconds" in caplog.text
    assert caplog.text.count("Redis failed, skipping it") == 1


def test_counts_are_computed_while_redis_is_down(agent_client, refunds_team):
    make_case(refunds_team)

    with override_settings(CACHES=REDIS_DOWN):
        response = agent_client.get(
            reverse("cases:queue-counts"), headers={"HX-Request": "true"}
        )

    assert cache_breaker.is_open()
    assert b'id="count-unassigned" hx-swap-oob="true">1<' in response.content
