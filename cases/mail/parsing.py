"""Read raw RFC 5322 messages into the parts the email channel stores.

Parsing uses the standard library's ``email`` package with
``email.policy.default``, which decodes RFC 2047 encoded words, RFC 2231
file names and raw UTF-8 headers (RFC 6532).
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.errors import HeaderParseError
from email.message import EmailMessage, Message, MIMEPart
from typing import cast

from cases.mail.text import clean_line, clean_text, html_to_text

_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
_UNSAFE_FILENAME = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')


class MalformedEmail(ValueError):
    """The bytes are not an email message that can be stored."""


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str
    content_type: str
    content: bytes


@dataclass
class ParsedEmail:
    """The parts of one message that the email channel uses."""

    message: EmailMessage
    message_id: str
    from_address: str
    from_name: str
    subject: str
    text: str
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    # To, Cc, Delivered-To and X-Original-To, in lower case.
    recipients: list[str] = field(default_factory=list)
    sent_at: datetime | None = None
    attachments: list[ParsedAttachment] = field(default_factory=list)
    size_bytes: int = 0

    def header(self, name: str) -> str:
        return header_text(self.message, name)


def parse_email(raw: bytes) -> ParsedEmail:
    """Parse ``raw`` bytes; raise MalformedEmail without headers or a sender."""
    if not raw.strip():
        raise MalformedEmail("The message is empty.")
    message = email.message_from_bytes(raw, policy=email.policy.default)
    if not list(message.keys()):
        raise MalformedEmail("The message has no header section.")
    from_address, from_name = _sender(message)
    if not from_address:
        raise MalformedEmail("The message has no valid From address.")
    chunks: list[str] = []
    attachments: list[ParsedAttachment] = []
    _collect(message, chunks, attachments)
    return ParsedEmail(
        message=message,
        message_id=message_id_of(message) or synthetic_message_id(raw),
        from_address=from_address,
        from_name=from_name,
        subject=clean_line(header_text(message, "Subject"), 500),
        text=clean_text("\n\n".join(chunk for chunk in chunks if chunk.strip())),
        in_reply_to=_MESSAGE_ID.findall(header_text(message, "In-Reply-To")),
        references=_MESSAGE_ID.findall(header_text(message, "References")),
        recipients=_recipients(message),
        sent_at=_date(message),
        attachments=attachments,
        size_bytes=len(raw),
    )


def header_text(message: EmailMessage, name: str) -> str:
    """Return the decoded value of header ``name``, or "" when absent or broken."""
    try:
        value = message.get(name)
    except (HeaderParseError, ValueError, IndexError, TypeError):
        return ""
    return str(value) if value is not None else ""


def message_id_of(message: EmailMessage) -> str:
    raw = header_text(message, "Message-ID").strip()
    found = _MESSAGE_ID.search(raw)
    if found:
        return found.group(1)[:500]
    return raw[:500] if raw and "@" in raw and " " not in raw else ""


def synthetic_message_id(raw: bytes) -> str:
    """Return a stable id for a message without one, from its bytes."""
    return f"sha256-{hashlib.sha256(raw).hexdigest()}@supportdesk.invalid"


def _sender(message: EmailMessage) -> tuple[str, str]:
    try:
        addresses = message["From"].addresses if message["From"] else ()
    except (HeaderParseError, ValueError, IndexError, AttributeError):
        return "", ""
    for address in addresses:
        if address.username and address.domain:
            return (
                f"{address.username}@{address.domain}"[:254],
                clean_line(address.display_name or "", 200),
            )
    return "", ""


def _recipients(message: EmailMessage) -> list[str]:
    found: list[str] = []
    for name in ("To", "Cc", "Delivered-To", "X-Original-To"):
        for value in message.get_all(name) or []:
            try:
                addresses = value.addresses
            except AttributeError:
                found.extend(
                    part.strip().strip("<>").lower() for part in str(value).split(",")
                )
                continue
            except (HeaderParseError, ValueError, IndexError):
                continue
            found.extend(
                f"{a.username}@{a.domain}".lower() for a in addresses if a.domain
            )
    return found


def _date(message: EmailMessage) -> datetime | None:
    try:
        header = message["Date"]
        value = getattr(header, "datetime", None) if header is not None else None
    except (HeaderParseError, ValueError, IndexError, TypeError):
        return None
    return value if value is not None and value.tzinfo is not None else None


def _collect(
    part: MIMEPart, chunks: list[str], attachments: list[ParsedAttachment]
) -> None:
    """Walk the MIME tree: body text into ``chunks``, files into ``attachments``.

    In multipart/alternative only the plain text version is read, or the
    HTML one when there is no plain text. Inline text parts of other
    multiparts are all kept, so a body split around an image stays whole.
    A forwarded message (message/rfc822) is kept as an .eml file.
    """
    if part.get_content_maintype() == "multipart":
        children = list(part.iter_parts())
        if part.get_content_subtype() == "alternative":
            texts = [c for c in children if _is_inline_text(c)]
            plain = [c for c in texts if c.get_content_subtype() == "plain"]
            others = [c for c in children if c.get_content_maintype() == "multipart"]
            if plain or texts:
                chunks.append(_text_of((plain or texts)[0]))
            elif others:
                _collect(others[-1], chunks, attachments)
            return
        for child in children:
            _collect(child, chunks, attachments)
        return
    if _is_inline_text(part):
        chunks.append(_text_of(part))
        return
    attachments.append(
        ParsedAttachment(
            filename=safe_filename(
                part.get_filename() or "", part.get_content_type(), len(attachments)
            ),
            content_type=part.get_content_type(),
            content=_bytes_of(part),
        )
    )


def _is_inline_text(part: MIMEPart) -> bool:
    return (
        part.get_content_type() in ("text/plain", "text/html")
        and not part.is_attachment()
        and not part.get_filename()
    )


def _text_of(part: MIMEPart) -> str:
    try:
        text = part.get_content()
    except (LookupError, UnicodeError, ValueError):
        # An unknown or wrong charset: read the bytes as UTF-8 and mark what
        # does not decode instead of losing the message.
        payload = part.get_payload(decode=True)
        raw = payload if isinstance(payload, bytes) else b""
        text = raw.decode("utf-8", "replace")
    if part.get_content_subtype() == "html":
        return html_to_text(text)
    return text


def _bytes_of(part: MIMEPart) -> bytes:
    if part.get_content_maintype() == "message":
        payload = part.get_payload()
        if isinstance(payload, list):
            # A message/* part's payload is a list of messages, never strings.
            messages = cast(list[Message], payload)
            return b"".join(inner.as_bytes() for inner in messages)
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def safe_filename(name: str, content_type: str, index: int) -> str:
    """Return a file name without paths or control characters, or a made-up one."""
    name = clean_text(name).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_FILENAME.sub("_", name).strip(" .")
    if len(name) > 150:
        stem, dot, extension = name.rpartition(".")
        name = (
            f"{stem[: 149 - len(extension)]}.{extension}"
            if dot and len(extension) <= 10
            else name[:150]
        )
    if name:
        return name
    if content_type == "message/rfc822":
        extension = ".eml"
    else:
        extension = mimetypes.guess_extension(content_type) or ".bin"
    return f"attachment-{index + 1}{extension}"
