"""Bidi control characters shown as visible markers on staff pages.

Customer text is stored unchanged because it is evidence. An explicit
embedding, override or isolate in it (U+202A to U+202E, U+2066 to U+2069)
would reorder the rest of the line for the agent reading it, so that a word
or file name reads backwards. dir="auto" and <bdi> isolate the text from the
page but still apply the controls inside it.
"""

import re

from django.template.defaultfilters import linebreaksbr
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

# Names from the Unicode Standard's list of bidirectional formatting characters.
BIDI_CONTROL_NAMES = {
    "\u202a": "left-to-right embedding",
    "\u202b": "right-to-left embedding",
    "\u202c": "pop directional formatting",
    "\u202d": "left-to-right override",
    "\u202e": "right-to-left override",
    "\u2066": "left-to-right isolate",
    "\u2067": "right-to-left isolate",
    "\u2068": "first strong isolate",
    "\u2069": "pop directional isolate",
}
_BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _marker(match: re.Match[str]) -> str:
    character = match.group()
    code = f"U+{ord(character):04X}"
    title = (
        f"Invisible {BIDI_CONTROL_NAMES[character]} character ({code}) in the "
        "stored text, shown here instead of applied"
    )
    return format_html('<span class="bidi-mark" title="{}">[{}]</span>', title, code)


def show_bidi_controls(text: str) -> SafeString:
    """Escape ``text`` and replace each bidi control with a visible marker."""
    escaped = str(conditional_escape(text))
    return mark_safe(_BIDI_CONTROL.sub(_marker, escaped))


def multiline_for_staff(text: str) -> str:
    """Render stored multi-line text for the admin, with bidi markers and <br> tags.

    Returns "—" for empty text, as the admin shows other empty values.
    """
    return linebreaksbr(show_bidi_controls(text)) if text else "—"
