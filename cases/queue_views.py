"""The queue page, its polled counts, take next, saved views and bulk actions."""

from __future__ import annotations

from dataclasses import replace

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from agents.models import Agent
from cases import assignment, bulk, queue, saved_views
from cases.audit import Actor
from cases.forms import BulkActionForm, QueueFilterForm, SavedViewForm, filters_parser
from cases.views import AgentRequest, agent_required
from supportdesk.errors import DomainError
from supportdesk.htmx import render_page, wants_partial
from supportdesk.pagination import CappedPaginator

QUEUE_PAGE_SIZE = 25


class QueuePaginator(CappedPaginator):
    """Counts at most 1,000 matches: 40 pages, past which agents filter."""

    count_cap = 1_000


@require_GET
@agent_required
def queue_page(request: AgentRequest) -> HttpResponse:
    agent = request.agent
    teams = queue.visible_teams(agent)
    form = QueueFilterForm(request.GET, teams=teams)
    filters = form.filters()
    paginator = QueuePaginator(queue.queue_for(agent, filters), QUEUE_PAGE_SIZE)
    # Ranking every match of a very common word would read them all, so
    # past the cap the matches keep the urgency order.
    unranked = filters.sort == "relevance" and paginator.is_capped
    if unranked:
        filters = replace(filters, sort="due")
        paginator = QueuePaginator(queue.queue_for(agent, filters), QUEUE_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "filters": filters,
        "page": page,
        "paginator": paginator,
        "unranked": unranked,
        "query": query.urlencode(),
        "views": _views_with_counts(agent, teams, query),
        "save_form": SavedViewForm(initial={"query": query.urlencode()}),
        "bulk_form": BulkActionForm(agents=Agent.objects.order_by("display_name")),
    }
    return render_page(request, "cases/queue.html", context, partial="queue-results")


@require_GET
@agent_required
def queue_counts(request: AgentRequest) -> HttpResponse:
    """Return the views' counts as out-of-band swaps, for htmx polling.

    The fragment means nothing as a page, so a plain request goes to the
    queue instead.
    """
    if not wants_partial(request):
        return redirect("cases:queue")
    teams = queue.visible_teams(request.agent)
    query = request.GET.copy()
    context = {"views": _views_with_counts(request.agent, teams, query)}
    return render(request, "cases/queue.html#view-counts", context)


def _views_with_counts(agent: Agent, teams, query: QueryDict) -> list[dict]:
    views = queue.builtin_views(teams) + queue.saved_views(agent)
    numbers = queue.view_counts(agent, views, teams, filters_parser(teams))
    current = _normalized(query) or "view=all"
    return [
        {
            "view": view,
            "count": numbers[view.key],
            "capped": numbers[view.key] > queue.counts.COUNT_CAP,
            "current": _normalized(QueryDict(view.query)) == current,
        }
        for view in views
    ]


def _normalized(query: QueryDict) -> str:
    pairs = sorted(
        (key, value) for key, values in query.lists() for value in values if value
    )
    return "&".join(f"{key}={value}" for key, value in pairs if key != "page")


@require_POST
@agent_required
def take_next(request: AgentRequest) -> HttpResponse:
    try:
        case = assignment.case_take_next(
            agent=request.agent, actor=Actor.for_user(request.user)
        )
    except DomainError as exc:
        messages.warning(request, exc.message)
        return redirect(_back_to_queue(request))
    messages.success(request, f"{case.reference} is now yours.")
    return redirect("cases:detail", reference=case.reference)


@require_POST
@agent_required
def saved_view_create(request: AgentRequest) -> HttpResponse:
    form = SavedViewForm(request.POST)
    if form.is_valid():
        try:
            view = saved_views.saved_view_create(
                agent=request.agent,
                name=form.cleaned_data["name"],
                query=form.cleaned_data["query"],
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Saved the view {view.name!r}.")
            return redirect(f"{reverse('cases:queue')}?{view.query}")
    else:
        errors = form.errors.get("name", ["Invalid view."])
        messages.error(request, " ".join(map(str, errors)))
    return redirect(_back_to_queue(request))


@require_POST
@agent_required
def saved_view_delete(request: AgentRequest, view_id: int) -> HttpResponse:
    try:
        saved_views.saved_view_delete(agent=request.agent, view_id=view_id)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Deleted the saved view.")
    return redirect("cases:queue")


@require_POST
@agent_required
def bulk_action(request: AgentRequest) -> HttpResponse:
    form = BulkActionForm(request.POST, agents=Agent.objects.order_by("display_name"))
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(map(str, errors)))
        return redirect(_back_to_queue(request))
    data = form.cleaned_data
    try:
        outcome = bulk.cases_bulk_change(
            agent=request.agent,
            actor=Actor.for_user(request.user),
            case_ids=data["case"],
            action=data["action"],
            assignee=form.assignee_for(request.agent),
            take_over=data["take_over"],
            status=data["status"],
            tag=data["tag"],
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(_back_to_queue(request))
    if outcome.changed:
        messages.success(request, f"Changed {len(outcome.changed)} cases.")
    for reference, reason in outcome.failed:
        messages.warning(request, f"{reference} was not changed: {reason}")
    return redirect(_back_to_queue(request))


def _back_to_queue(request: HttpRequest) -> str:
    """Return the queue URL the form came from, or the plain queue."""
    target = request.POST.get("next", "")
    queue_url = reverse("cases:queue")
    if target.startswith(queue_url) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return target
    return queue_url
