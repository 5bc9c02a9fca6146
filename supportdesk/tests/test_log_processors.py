"""Log lines carry no status link tokens, and gunicorn's access log has fields."""

from __future__ import annotations

import json
import logging

import structlog
from django.conf import settings
from django.test import RequestFactory

TOKEN = "hDZEV3qlS6M779gqsZqIOWOk28lzG9-fZN9Ehraz8aA"


def json_formatter() -> logging.Formatter:
    options = dict(settings.LOGGING["formatters"]["structured"])
    options.pop("()")
    options["processors"] = [
        *options["processors"][:-1],
        structlog.processors.JSONRenderer(),
    ]
    return structlog.stdlib.ProcessorFormatter(**options)


def format_record(name: str, message: str, args=(), **extra) -> dict:
    record = logging.LogRecord(name, logging.WARNING, __file__, 1, message, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return json.loads(json_formatter().format(record))


def test_django_request_log_redacts_token():
    request = RequestFactory().get(f"/refund/status/{TOKEN}/")

    line = format_record(
        "django.request", "Not Found: %s", (request.path,), request=request
    )

    assert TOKEN not in json.dumps(line)
    assert line["event"] == "Not Found: /refund/status/[redacted]/"
    assert "/refund/status/[redacted]/" in line["request"]


def test_plain_record_keeps_message_only():
    line = format_record("cases.services", "Case %s opened", ("C-000001",))

    assert line["event"] == "Case C-000001 opened"
    assert "positional_args" not in line


def test_gunicorn_access_record_has_fields():
    atoms = {
        "h": "203.0.113.9",
        "m": "POST",
        "U": f"/refund/status/{TOKEN}/messages/",
        "q": "",
        "s": "302",
        "B": 0,
        "M": 41,
        "f": "-",
        "a": "Mozilla/5.0",
    }

    line = format_record("gunicorn.access", '%(h)s "%(U)s" %(s)s', atoms)

    assert line["event"] == "request_served"
    assert line["status"] == 302
    assert line["method"] == "POST"
    assert line["path"] == "/refund/status/[redacted]/messages/"
    assert line["duration_ms"] == 41
    assert line["remote_addr"] == "203.0.113.9"
    assert TOKEN not in json.dumps(line)
