"""Agent pages: the case page and the actions taken on a case."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Concatenate, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from agents.models import Agent
from cases import presence, selectors, services
from cases.audit import Actor
from cases.forms import (
    AssignForm,
    MergeForm,
    MessageForm,
    PriorityForm,
    ReplyForm,
    StatusForm,
    TagForm,
)
from cases.models import SupportCase
from refunds.panel import refund_panel_context, refund_panel_forms
from supportdesk.errors import DomainError
from supportdesk.htmx import HtmxHttpRequest, render_page, wants_partial

REPLY_STATUSES = (SupportCase.Status.PENDING, SupportCase.Status.SOLVED)


@dataclass(frozen=True)
class ActionDone:
    """The success message of an htmx action and where the case page shows it.

    ``place`` is the part of the page that the action belongs to: "refund"
    (the refund panel), "actions" (status, priority, assignment), "tags" or
    "thread" (replies and notes).
    """

    message: str
    place: str


class AgentRequest(HtmxHttpRequest):
    """A request from a logged-in agent, as views under agent_required get it."""

    agent: Agent


def agent_required[**P](
    view: Callable[Concatenate[AgentRequest, P], HttpResponseBase],
) -> Callable[Concatenate[HttpRequest, P], HttpResponseBase]:
    """Require a logged-in user with an agent profile."""

    @login_required
    @wraps(view)
    def wrapper(
        request: HttpRequest, *args: P.args, **kwargs: P.kwargs
    ) -> HttpResponseBase:
        agent = getattr(request.user, "agent", None)
        if agent is None:
            return render(request, "cases/no_agent_profile.html", status=403)
        agent_request = cast(AgentRequest, request)
        agent_request.agent = agent
        return view(agent_request, *args, **kwargs)

    return wrapper


@require_GET
@agent_required
def case_detail(request: AgentRequest, reference: str) -> HttpResponse:
    case = selectors.case_for(request.agent, reference)
    if case.merged_into_id is not None:
        target = selectors.case_for(request.agent, f"C-{case.merged_into_id}")
        messages.info(request, f"{case.reference} was merged into {target.reference}.")
        return redirect("cases:detail", reference=target.reference)
    if reference != case.reference:
        return redirect("cases:detail", reference=case.reference)
    return _case_page(request, case)


def _case_page(
    request, case, *, forms=None, status=200, error=None, done=None
) -> HttpResponse:
    """Render the case page, with ``done`` after a successful htmx action."""
    context_data = selectors.case_context(case)
    refund = context_data.refund
    page_forms = {
        "reply": ReplyForm(initial={"version": case.version}),
        "note": MessageForm(),
        "status": StatusForm(initial={"status": case.status}),
        "priority": PriorityForm(initial={"priority": case.priority}),
        "assign": AssignForm(initial={"agent": case.assignee_id}),
        "tag": TagForm(),
        "merge": MergeForm(),
        **refund_panel_forms(refund),
        **(forms or {}),
    }
    for name, form in page_forms.items():
        if form is not None:
            # Several forms share field names (body, reason); distinct ids keep
            # each label pointing at its own input.
            form.auto_id = f"id_{name}_%s"
    context = {
        "case": case,
        "data": context_data,
        "action_error": error,
        "done": done,
        "viewers": presence.presence_touch(
            case_id=case.pk,
            agent_id=request.agent.pk,
            name=request.agent.display_name,
        ),
        "heartbeat_seconds": presence.HEARTBEAT_SECONDS,
        **{f"{name}_form": form for name, form in page_forms.items()},
        **refund_panel_context(refund, request.agent),
        "transitions": [
            (value, label)
            for value, label in SupportCase.Status.choices
            if case.can_move_to(value)
        ],
        # The statuses of the "Send and ..." buttons of the reply form.
        "reply_statuses": [
            status for status in REPLY_STATUSES if case.can_move_to(status)
        ],
    }
    return render_page(
        request, "cases/case_detail.html", context, partial="case-main", status=status
    )


def answer_case_action(
    request: HttpRequest,
    case: SupportCase,
    *,
    form_name: str,
    form,
    perform: Callable[[dict], object],
    success: str,
    trigger: str,
    place: str,
) -> HttpResponse:
    """Run one POST action shown on the case page and answer it.

    ``perform(cleaned_data)`` calls the service. Errors come back on the
    form: htmx swaps the case's main area with status 422 (or the error's own
    4xx), and a plain POST gets the whole page. Success redirects to the case
    page, or for htmx re-renders its main area and fires ``trigger``. The
    ``success`` message then appears at ``place`` (see ActionDone), where
    static/js/app.js moves focus if the swap removed the focused control.
    """
    if not form.is_valid():
        return _case_page(request, case, forms={form_name: form}, status=422)
    try:
        perform(form.cleaned_data)
    except DomainError as exc:
        # Another agent may have changed the case: show it as it is now. An
        # error about the whole action goes above the page, because its form
        # may no longer be shown (a refund approved meanwhile).
        case.refresh_from_db()
        error = None
        if isinstance(exc, services.StaleCase):
            form = _held_form(form, case)
        if exc.field in form.fields:
            form.add_error(exc.field, exc.message)
        else:
            error = exc.message
        status = exc.status_code if exc.status_code != 400 else 422
        return _case_page(
            request, case, forms={form_name: form}, status=status, error=error
        )
    case.refresh_from_db()
    if wants_partial(request):
        response = _case_page(request, case, done=ActionDone(success, place))
        response.headers["HX-Trigger"] = trigger
        return response
    messages.success(request, success)
    return redirect("cases:detail", reference=case.reference)


def _held_form(form, case: SupportCase):
    """Return the held reply's form again, now based on the case's new version.

    The agent reviews the changes shown above it and sends the same text
    again; only a further change holds it a second time.
    """
    data = form.data.copy()
    data["version"] = str(case.version)
    held = type(form)(data)
    held.is_valid()
    return held


def case_action(
    form_name: str,
    form_class: type,
    perform: Callable,
    success: str,
    place: str = "actions",
):
    """Build the view of one POST action on a case."""

    @require_POST
    @agent_required
    def view(request: AgentRequest, reference: str) -> HttpResponse:
        case = selectors.case_for(request.agent, reference)
        return answer_case_action(
            request,
            case,
            form_name=form_name,
            form=form_class(request.POST),
            perform=lambda data: perform(request, case, data),
            success=success,
            trigger="caseUpdated",
            place=place,
        )

    return view


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user)


def _reply(request: HttpRequest, case: SupportCase, data: dict) -> None:
    if data["status"]:
        services.case_reply_and_set_status(
            case=case,
            actor=_actor(request),
            body=data["body"],
            status=data["status"],
            expected_version=data.get("version"),
        )
    else:
        services.case_reply(
            case=case,
            actor=_actor(request),
            body=data["body"],
            expected_version=data.get("version"),
        )


@require_POST
@agent_required
def case_reply(request: AgentRequest, reference: str) -> HttpResponse:
    """Send a reply, with the status that "Send and set to pending" or "Send
    and solve" posts."""
    case = selectors.case_for(request.agent, reference)
    form = ReplyForm(request.POST)
    status = form.data.get("status", "")
    success = "Reply sent."
    if status in SupportCase.Status.values:
        label = SupportCase.Status(status).label.lower()
        success = f"Reply sent and the case set to {label}."
    return answer_case_action(
        request,
        case,
        form_name="reply",
        form=form,
        perform=lambda data: _reply(request, case, data),
        success=success,
        trigger="caseUpdated",
        place="thread",
    )


case_note = case_action(
    "note",
    MessageForm,
    lambda request, case, data: services.case_add_note(
        case=case, actor=_actor(request), body=data["body"]
    ),
    "Note added.",
    place="thread",
)
case_status = case_action(
    "status",
    StatusForm,
    lambda request, case, data: services.case_change_status(
        case=case, actor=_actor(request), status=data["status"], reason=data["reason"]
    ),
    "Status changed.",
)
case_priority = case_action(
    "priority",
    PriorityForm,
    lambda request, case, data: services.case_change_priority(
        case=case, actor=_actor(request), priority=data["priority"]
    ),
    "Priority changed.",
)
case_assign = case_action(
    "assign",
    AssignForm,
    lambda request, case, data: services.case_assign(
        case=case,
        actor=_actor(request),
        assignee=data["agent"],
        take_over=data["take_over"],
    ),
    "Assignment changed.",
)


case_take = case_action(
    "assign",
    AssignForm,
    lambda request, case, data: services.case_assign(
        case=case,
        actor=_actor(request),
        assignee=request.agent,
        take_over=data["take_over"],
    ),
    "The case is yours.",
)
