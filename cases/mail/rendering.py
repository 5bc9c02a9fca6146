"""Render customer emails from templates: a subject, a text body and HTML.

An email named ``NAME`` uses ``templates/mail/NAME_subject.txt``,
``NAME.txt`` and, when it exists, ``NAME.html``. Text templates must wrap
their body in ``{% autoescape off %}``, since plain text is not HTML; the
HTML template escapes as every page does.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string

from cases.mail.text import clean_line


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render_email(name: str, context: dict) -> RenderedEmail:
    """Render the email ``name`` with ``context``."""
    # One line, so that nothing in the context can add a header.
    subject = clean_line(render_to_string(f"mail/{name}_subject.txt", context), 500)
    text = render_to_string(f"mail/{name}.txt", context).strip() + "\n"
    try:
        html: str = render_to_string(f"mail/{name}.html", context)
    except TemplateDoesNotExist:
        html = ""
    return RenderedEmail(subject=subject, text=text, html=html)
