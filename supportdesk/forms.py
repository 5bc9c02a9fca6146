"""Form fields shared by the public forms of every app."""

from __future__ import annotations

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
