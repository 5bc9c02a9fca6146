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
_LINE_BREAK_CHARACTERS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_LINE_BREAKS = re.compile(f"[{_LINE_BREAK_CHARACTERS}]+")
# The other C0 and C1 control characters and DEL, such as ESC and BEL, which
# terminals, CSV readers and mail clients may act on. A tab becomes a space.
# NUL is kept, so that the form and API fields reject it as invalid input.
_OTHER_CONTROLS: dict[int, str | None] = {
    code: None
    for code in [*range(0x01, 0x20), 0x7F, *range(0x80, 0xA0)]
    if chr(code) not in _LINE_BREAK_CHARACTERS
}
_OTHER_CONTROLS[ord("\t")] = " "
_REMOVED = {**_BIDI_CONTROLS, **_OTHER_CONTROLS}


class NotOneLine(DomainError):
    """A line break in a value that must be on one line."""

    code = "not_one_line"


def clean_single_line(value: str, *, field: str | None = None) -> str:
    """Return ``value`` stripped, in NFC, without bidi or control characters.

    A tab becomes a space, and the explicit bidi controls and the other C0
    and C1 control characters are removed. With ``field``, a line break
    raises NotOneLine naming that field, as for form and API input. Without
    it, each run of line breaks becomes one space, as for email headers and
    imported orders. The result can be empty, so callers check for a blank
    value after calling it.
    """
    text = value.translate(_REMOVED)
    if _LINE_BREAKS.search(text):
        if field is not None:
            raise NotOneLine(f"The {field} must be on one line.", field=field)
        text = _LINE_BREAKS.sub(" ", text)
    return unicodedata.normalize("NFC", text.strip())
