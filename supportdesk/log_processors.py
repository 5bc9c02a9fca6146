"""structlog processors that the logging configuration in settings.py adds."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from structlog.typing import EventDict

# The secret part of a customer's status link, /refund/status/<token>/.
_STATUS_TOKEN = re.compile(r"(/refund/status/)[^/\s?\"']+")


def redact_status_tokens(
    logger: Any, method_name: str, event_dict: EventDict
) -> EventDict:
    """Replace status link tokens in every string value with ``[redacted]``.

    A token in a log line would let anyone who reads the logs open the
    customer's refund request; request logs carry the path.
    """
    for key, value in event_dict.items():
        if key.startswith("_") or isinstance(value, (int, float, tuple, type(None))):
            continue
        # Objects such as the request that Django logs are rendered with
        # str() in the end, so their text is checked too.
        text = value if isinstance(value, str) else str(value)
        if "/refund/status/" in text:
            event_dict[key] = _STATUS_TOKEN.sub(r"\1[redacted]", text)
    return event_dict


def gunicorn_access_fields(
    logger: Any, method_name: str, event_dict: EventDict
) -> EventDict:
    """Turn a gunicorn access log record into named fields.

    gunicorn passes the request's attributes ("atoms") as the record's
    arguments (see Logger.atoms() in gunicorn/glogging.py), which structlog's
    ProcessorFormatter hands over as ``positional_args`` when its
    ``pass_foreign_args`` is on. Other records already have their arguments
    in the message, so the key is dropped from every record.
    """
    atoms = event_dict.pop("positional_args", None)
    record = event_dict.get("_record")
    if record is None or record.name != "gunicorn.access":
        return event_dict
    if not isinstance(atoms, Mapping):
        return event_dict
    event_dict.update(
        event="request_served",
        remote_addr=atoms["h"],
        method=atoms["m"],
        path=atoms["U"],
        query=atoms["q"],
        status=int(atoms["s"]) if str(atoms["s"]).isdigit() else atoms["s"],
        response_bytes=atoms["B"],
        duration_ms=atoms["M"],
        referer=atoms["f"],
        user_agent=atoms["a"],
    )
    return event_dict
