"""Form fields shared by the public forms of every app."""

from __future__ import annotations

import uuid

from django import forms

from supportdesk.text import NotOneLine, clean_single_line


class SingleLineField(forms.CharField):
    """A CharField for one line of text, such as a name or a subject.

    ``noun`` names the value in the error, as in "The name must be on one
    line."
    """

    def __init__(self, *, noun: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.noun = noun

    def to_python(self, value) -> str | None:
        text = super().to_python(value)
        if not text:
            return text
        try:
            return clean_single_line(text, field=self.noun)
        except NotOneLine as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from None


class SubmissionKeyForm(forms.Form):
    """A form with a random hidden key, so a repeated submission counts once.

    Services pass the key to supportdesk.submissions.create_once.
    """

    submission_key = forms.CharField(
        widget=forms.HiddenInput,
        max_length=64,
        error_messages={
            "required": "This page is out of date. Reload it and send the form again."
        },
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["submission_key"] = uuid.uuid4().hex

    def clean(self):
        # A hidden field has no place to show its error, so the whole form
        # shows it.
        cleaned_data = super().clean()
        errors = self.errors.pop("submission_key", None)
        if errors:
            self.add_error(None, forms.ValidationError(errors.as_data()))
        return cleaned_data
