"""Case page actions beyond the thread: tags, merging, presence, agent status."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from cases import assignment, merging, presence, selectors, tagging
from cases.audit import Actor
from cases.forms import AgentStatusForm, MergeForm, TagForm, TagRemoveForm
from cases.models import CaseMerge, SupportCase
from cases.views import AgentRequest, agent_required, case_action
from supportdesk.errors import DomainError


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user)


case_tag_add = case_action(
    "tag",
    TagForm,
    lambda request, case, data: tagging.case_tag_add(
        case=case, actor=_actor(request), name=data["tag"]
    ),
    "Tag added.",
    place="tags",
)
case_tag_remove = case_action(
    "tag",
    TagRemoveForm,
    lambda request, case, data: tagging.case_tag_remove(
        case=case, actor=_actor(request), tag=data["tag"]
    ),
    "Tag removed.",
    place="tags",
)


def _merge(request: AgentRequest, case: SupportCase, data: dict) -> None:
    try:
        target = selectors.case_for(request.agent, data["target"])
    except Http404:
        raise DomainError(
            f"There is no case {data['target']!r} that you can see. Check the "
            "reference.",
            field="target",
        ) from None
    merging.case_merge(source=case, target=target, actor=_actor(request))


case_merge = case_action("merge", MergeForm, _merge, "Cases merged.")


@require_POST
@agent_required
def case_merge_undo(
    request: AgentRequest, reference: str, merge_id: int
) -> HttpResponse:
    case = selectors.case_for(request.agent, reference)
    merge = CaseMerge.objects.filter(pk=merge_id, target=case).first()
    if merge is None:
        raise Http404("No such merge.")
    try:
        merging.case_merge_undo(merge=merge, actor=_actor(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"Undid the merge: {merge.source.reference} is separate again."
        )
    return redirect("cases:detail", reference=case.reference)


@require_POST
@agent_required
def case_presence(request: AgentRequest, reference: str) -> HttpResponse:
    """Record that the agent has the case open; return who else is there.

    The page posts the case version it shows, so the response also warns
    when the case changed since.
    """
    case = selectors.case_for(request.agent, reference)
    viewers = presence.presence_touch(
        case_id=case.pk,
        agent_id=request.agent.pk,
        name=request.agent.display_name,
        typing=request.POST.get("typing") == "1",
    )
    seen = request.POST.get("version", "")
    context = {
        "case": case,
        "viewers": viewers,
        "heartbeat_seconds": presence.HEARTBEAT_SECONDS,
        "changed_since": seen.isdigit() and int(seen) != case.version,
        "last_event": case.events.order_by("-occurred_at", "-id").first()
        if seen.isdigit() and int(seen) != case.version
        else None,
    }
    return render(request, "cases/case_detail.html#presence-content", context)


@require_POST
@agent_required
def agent_status(request: AgentRequest) -> HttpResponse:
    form = AgentStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose available, away or offline.")
    else:
        try:
            returned = assignment.agent_change_status(
                agent=request.agent,
                actor=_actor(request),
                status=form.cleaned_data["status"],
                return_cases=form.cleaned_data["return_cases"],
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            status = form.cleaned_data["status"]
            note = (
                ngettext(
                    " {count} case went back to the queue.",
                    " {count} cases went back to the queue.",
                    len(returned),
                ).format(count=len(returned))
                if returned
                else ""
            )
            messages.success(request, f"Your status is now {status}.{note}")
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("cases:queue")
