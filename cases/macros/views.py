"""Agent pages to preview a macro on a case and apply it."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from cases import selectors
from cases.audit import Actor
from cases.macros.models import Macro
from cases.macros.services import macro_apply, macro_preview
from cases.services import MAX_MESSAGE_LENGTH
from cases.views import AgentRequest, agent_required
from supportdesk.errors import DomainError
from supportdesk.htmx import render_page


class MacroChoiceForm(forms.Form):
    macro = forms.ModelChoiceField(
        queryset=Macro.objects.filter(is_active=True),
        empty_label="Choose a macro",
        error_messages={"required": "Choose a macro."},
    )


class MacroApplyForm(forms.Form):
    body = forms.CharField(
        label="Reply",
        required=False,
        max_length=MAX_MESSAGE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Edit the text before sending. Leave it empty to send no reply.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


def _page(request, case, *, choice, macro=None, form=None, status=200):
    context = {"case": case, "choice_form": choice, "macro": macro, "apply_form": form}
    return render_page(
        request,
        "cases/macro_preview.html",
        context,
        partial="macro-preview",
        status=status,
    )


@require_GET
@agent_required
def macro_preview_page(request: AgentRequest, reference: str) -> HttpResponse:
    """Show the chosen macro filled in for the case, ready to edit and send."""
    case = selectors.case_for(request.agent, reference)
    choice = MacroChoiceForm(request.GET or None)
    if not choice.is_valid():
        status = 422 if request.GET else 200
        return _page(request, case, choice=choice, status=status)
    macro = choice.cleaned_data["macro"]
    try:
        body = macro_preview(case=case, actor=Actor.for_user(request.user), macro=macro)
    except DomainError as exc:
        choice.add_error("macro", exc.message)
        return _page(request, case, choice=choice, macro=macro, status=422)
    form = MacroApplyForm(initial={"body": body, "version": case.version})
    return _page(request, case, choice=choice, macro=macro, form=form)


@require_POST
@agent_required
def macro_apply_view(request: AgentRequest, reference: str, pk: int) -> HttpResponse:
    case = selectors.case_for(request.agent, reference)
    macro = Macro.objects.filter(pk=pk, is_active=True).first()
    if macro is None:
        raise Http404("This macro no longer exists or is inactive.")
    choice = MacroChoiceForm(initial={"macro": pk})
    form = MacroApplyForm(request.POST)
    if not form.is_valid():
        return _page(request, case, choice=choice, macro=macro, form=form, status=422)
    try:
        macro_apply(
            case=case,
            actor=Actor.for_user(request.user),
            macro=macro,
            body=form.cleaned_data["body"],
            expected_version=form.cleaned_data["version"],
        )
    except DomainError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        status = exc.status_code if exc.status_code != 400 else 422
        return _page(
            request, case, choice=choice, macro=macro, form=form, status=status
        )
    messages.success(request, f"Macro “{macro.name}” applied.")
    return redirect("cases:detail", reference=case.reference)
