"""The public survey page, reached through the token link in the email."""

from __future__ import annotations

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from cases.surveys.models import SatisfactionSurvey
from cases.surveys.services import (
    MAX_COMMENT_LENGTH,
    survey_answer,
    survey_can_answer,
)
from supportdesk.errors import DomainError
from supportdesk.htmx import render_page


class SurveyForm(forms.Form):
    rating = forms.TypedChoiceField(
        label="How satisfied are you with the help you received?",
        choices=SatisfactionSurvey.RATINGS,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a rating from 1 to 5."},
    )
    comment = forms.CharField(
        label="Comment",
        required=False,
        max_length=MAX_COMMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=f"What went well, or what should we do better? Up to "
        f"{MAX_COMMENT_LENGTH:,} characters.",
        error_messages={
            "max_length": "Shorten the comment to at most %(limit_value)s "
            "characters (it has %(show_value)s)."
        },
    )


@require_http_methods(["GET", "POST"])
def survey_page(request: HttpRequest, token: str) -> HttpResponse:
    """Show the one-question survey and store the answer.

    A GET never stores anything: mail scanners open links, so the rating in
    an emailed link only preselects the choice.
    """
    survey = (
        SatisfactionSurvey.objects.select_related("case", "case__customer")
        .filter(token=token)
        .first()
    )
    if survey is None:
        raise Http404("No survey has this link.")
    status = 200
    if request.method == "POST":
        form = SurveyForm(request.POST)
        if form.is_valid():
            try:
                survey_answer(
                    survey=survey,
                    rating=form.cleaned_data["rating"],
                    comment=form.cleaned_data["comment"],
                )
            except DomainError as exc:
                form.add_error(
                    exc.field if exc.field in form.fields else None, exc.message
                )
                status = exc.status_code if exc.status_code != 400 else 422
            else:
                return redirect("surveys:answer", token=survey.token)
        else:
            status = 422
    else:
        initial = {"rating": survey.rating, "comment": survey.comment}
        preselected = request.GET.get("rating", "")
        if preselected in {"1", "2", "3", "4", "5"} and survey_can_answer(survey):
            initial["rating"] = int(preselected)
        form = SurveyForm(initial=initial)
    context = {
        "survey": survey,
        "form": form,
        "can_answer": survey_can_answer(survey),
    }
    return render_page(request, "cases/survey_answer.html", context, status=status)
