"""Cleaning of one-line text that people type: names, subjects, order numbers."""

from __future__ import annotations

import re
import unicodedata

from supportdesk.errors import DomainError

# The explicit bidi embeddings, overrides and isolates (U+202A to U+202E and
# U+2066 to U+2069). Arabic and Hebrew text displays right to left without
# them, and an override can make "gnp.exe" display as "exe.png".
_BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
# The characters that str.splitlines() treats as line boundaries.
_LINE_BREAKS = re.compile(r"[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]+")


class NotOneLine(DomainError):
    """A line break in a value that must be on one line."""

    code = "not_one_line"


def clean_single_line(value: str, *, field: str | None = None) -> str:
    """Return ``value`` stripped, in NFC and without explicit bidi controls.

    With ``field``, a line break raises NotOneLine naming that field, as for
    form and API input. Without it, each run of line breaks becomes one
    space, as for email headers.
    """
    text = value.translate(_BIDI_CONTROLS)
    if _LINE_BREAKS.search(text):
        if field is not None:
            raise NotOneLine(f"The {field} must be on one line.", field=field)
        text = _LINE_BREAKS.sub(" ", text)
    return unicodedata.normalize("NFC", text.strip())
