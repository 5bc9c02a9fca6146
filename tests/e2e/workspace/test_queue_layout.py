"""The queue table fits its scroll region on desktop widths and the page
never scrolls sideways at 320 px, which is 1280 px at 400 % zoom."""

import pytest

from cases.audit import Actor
from cases.services import case_change_status
from cases.tagging import case_tag_add
from cases.tests.factories import make_case

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTHS = """() => {
  const region = document.querySelector(".table-scroll");
  return {
    page: document.documentElement.scrollWidth,
    region: region.clientWidth,
    table: region.scrollWidth,
  };
}"""


@pytest.fixture
def busy_queue(agent, refunds_team):
    """Cases with wide cell contents: a long status, a tag and long subjects."""
    actor = Actor.for_agent(agent)
    pending = make_case(refunds_team, subject="Where is my parcel?")
    case_change_status(case=pending, actor=actor, status="pending")
    tagged = make_case(refunds_team, subject="Refund request for order #1410")
    case_tag_add(case=tagged, actor=actor, name="damaged-in-transit")
    make_case(refunds_team, subject="Question about the invoice address")


@pytest.mark.parametrize("width,height", [(1280, 800), (1024, 768)])
def test_queue_table_fits_desktop_widths(page_for, agent, busy_queue, width, height):
    page = page_for(agent)
    page.set_viewport_size({"width": width, "height": height})
    page.goto("/queue/?status=all")

    widths = page.evaluate(WIDTHS)

    assert widths["table"] <= widths["region"], widths
    assert widths["page"] <= width, widths
    page.locator("#queue-results").scroll_into_view_if_needed()
    page.screenshot(path=f"test-artifacts/screenshots/queue-table-{width}.png")


def test_queue_page_reflows_at_320_px(page_for, agent, busy_queue):
    page = page_for(agent)
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto("/queue/?status=all")

    widths = page.evaluate(WIDTHS)

    assert widths["page"] <= 320, widths
