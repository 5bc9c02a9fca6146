"""Plain text from email bodies: HTML conversion and cleaning for storage."""

from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser

from supportdesk.text import clean_single_line

# Elements whose content is never text for the reader.
_SKIPPED = {"script", "style", "head", "title", "template", "noscript", "svg"}
# Elements that start on a new line.
_BLOCKS = {
    "address", "article", "aside", "blockquote", "div", "dl", "dt", "dd",
    "fieldset", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table",
    "tr", "ul",
}  # fmt: skip
# Control characters other than tab and newline; PostgreSQL rejects NUL.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0
        self.links: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self.skip_depth += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCKS:
            self.parts.append("\n")
            if tag == "li":
                self.parts.append("- ")
        if tag == "a":
            href = dict(attrs).get("href") or ""
            keep = href.startswith(("http://", "https://", "mailto:"))
            self.links.append(href if keep else None)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag in _BLOCKS and tag != "li":
            self.parts.append("\n")
        elif tag == "a" and self.links:
            href = self.links.pop()
            if href and self.skip_depth == 0:
                link_text = href.removeprefix("mailto:")
                if not "".join(self.parts[-3:]).rstrip().endswith(link_text):
                    self.parts.append(f" ({link_text})")

    def handle_data(self, data: str) -> None:
        if self.skip_depth == 0:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """Convert an HTML body to plain text; tags and scripts are dropped.

    The result is text to be escaped when shown, never markup: any ``<`` in
    it came from an entity or from text, not from a tag.
    """
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = [line.strip() for line in "".join(parser.parts).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def clean_text(text: str) -> str:
    """Normalise text for storage: NFC, Unix line ends, no control characters.

    Undecodable bytes, which the email parser keeps as lone surrogates, are
    read as UTF-8 or replaced, because no database column accepts them.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raw = text.encode(
            "utf-8", "surrogateescape" if _only_escapes(text) else "replace"
        )
        text = raw.decode("utf-8", "replace")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    return unicodedata.normalize("NFC", text)


def _only_escapes(text: str) -> bool:
    """Return True if every surrogate in ``text`` stands for a raw byte."""
    return all("\udc80" <= ch <= "\udcff" for ch in text if "\ud800" <= ch <= "\udfff")


def clean_line(text: str, max_length: int) -> str:
    """Clean a header value to one line of at most ``max_length`` characters.

    Line breaks fold to a space and explicit bidi controls are dropped.
    """
    line = " ".join(clean_single_line(clean_text(text)).split())
    return line[:max_length]


# Outgoing replies carry this line above the quoted thread; text below it in
# a customer's reply is the quote and is cut off.
REPLY_ABOVE_MARKER = "##- Please type your reply above this line -##"
_QUOTE_HEADER = re.compile(
    r"^(On\s.+wrote:|Le\s.+a écrit\s?:|Am\s.+schrieb.+:|El\s.+escribió:)$",
    re.IGNORECASE,
)


def strip_quoted_reply(text: str) -> str:
    """Remove the quoted earlier messages from a customer's reply.

    Cuts at our reply marker when the reply quotes it, or else drops a
    final block of ``>`` lines. In both cases the "On ... wrote:" line above
    the quote goes too. Text that the customer wrote between quotes stays.
    """
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if REPLY_ABOVE_MARKER in line:
            lines = lines[:index]
            break
    while lines and (not lines[-1].strip() or lines[-1].startswith(">")):
        lines.pop()
    if lines and _QUOTE_HEADER.match(lines[-1].strip()):
        lines.pop()
    stripped = "\n".join(lines).strip()
    return stripped or text.strip()
