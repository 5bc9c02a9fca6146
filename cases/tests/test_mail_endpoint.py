"""The inbound mail endpoint: authentication, limits and idempotency."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest
from django.test import Client
from django.urls import reverse

from cases.mail.models import InboundEmail
from cases.models import SupportCase
from cases.tests.mail_helpers import load_eml

TOKEN = "inbound-test-token-0123456789abcdef"
SECRET = "inbound-test-hmac-secret"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def endpoint_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MAIL_INBOUND_TOKEN = TOKEN
    settings.MAIL_INBOUND_HMAC_SECRET = SECRET


def post(client, raw: bytes, **headers):
    return client.post(
        reverse("mail:inbound"), raw, content_type="message/rfc822", headers=headers
    )


def signed_headers(raw: bytes, *, timestamp: int | None = None, secret=SECRET):
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + raw, hashlib.sha256)
    return {
        "X-Supportdesk-Timestamp": stamp,
        "X-Supportdesk-Signature": f"sha256={digest.hexdigest()}",
    }


def test_bearer_token_stores_message():
    client = Client(enforce_csrf_checks=True)

    response = post(
        client,
        load_eml("new-question-multipart.eml"),
        Authorization=f"Bearer {TOKEN}",
    )

    assert response.status_code == 201
    body = response.json()
    case = SupportCase.objects.get()
    assert body == {
        "status": "stored",
        "message_id": "7c1e2f0a-3b4d-4e5f-9a8b-1c2d3e4f5a6b@example.org",
        "disposition": "opened",
        "case": case.reference,
        "attachments_not_stored": 0,
    }
    assert case.email_attachments.count() == 2


def test_same_message_posted_twice_stored_once(client):
    raw = load_eml("new-question-multipart.eml")

    first = post(client, raw, Authorization=f"Bearer {TOKEN}")
    second = post(client, raw, Authorization=f"Bearer {TOKEN}")

    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["status"] == "duplicate"
    assert second.json()["case"] == first.json()["case"]
    assert InboundEmail.objects.count() == 1
    assert SupportCase.objects.count() == 1


@pytest.mark.parametrize(
    "authorization",
    ["", f"Bearer {TOKEN}x", f"Basic {TOKEN}", "Bearer "],
)
def test_bad_credentials_rejected(client, authorization):
    headers = {"Authorization": authorization} if authorization else {}

    response = post(client, load_eml("new-question-multipart.eml"), **headers)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="inbound-mail"'
    assert InboundEmail.objects.count() == 0


def test_hmac_signature_accepted(client):
    raw = load_eml("latin1-no-message-id.eml")

    response = post(client, raw, **signed_headers(raw))

    assert response.status_code == 201
    assert response.json()["disposition"] == "opened"


@pytest.mark.parametrize(
    "headers",
    [
        lambda raw: signed_headers(raw, secret="wrong-secret"),
        lambda raw: signed_headers(raw, timestamp=int(time.time()) - 3600),
        lambda raw: signed_headers(raw + b"tampered"),
        lambda raw: {**signed_headers(raw), "X-Supportdesk-Timestamp": "soon"},
    ],
    ids=["wrong secret", "old timestamp", "other body", "bad timestamp"],
)
def test_bad_signature_rejected(client, headers):
    raw = load_eml("latin1-no-message-id.eml")

    response = post(client, raw, **headers(raw))

    assert response.status_code == 401
    assert InboundEmail.objects.count() == 0


def test_oversized_body_rejected_with_413(client, settings):
    settings.MAIL_MAX_MESSAGE_BYTES = 1000

    response = post(
        client,
        load_eml("new-question-multipart.eml"),
        Authorization=f"Bearer {TOKEN}",
    )

    assert response.status_code == 413
    assert InboundEmail.objects.count() == 0


def test_oversized_signed_body_rejected_with_413(client, settings):
    settings.MAIL_MAX_MESSAGE_BYTES = 1000
    raw = load_eml("new-question-multipart.eml")

    response = post(client, raw, **signed_headers(raw))

    assert response.status_code == 413


@pytest.mark.parametrize(
    "raw", [b"", b"no header section at all\n", b"Subject: no sender\r\n\r\nHi\r\n"]
)
def test_malformed_message_rejected_with_400(client, raw):
    response = post(client, raw, Authorization=f"Bearer {TOKEN}")

    assert response.status_code == 400
    assert response.json()["error"].startswith("Malformed message:")
    assert InboundEmail.objects.count() == 0


def test_endpoint_off_without_secrets(client, settings):
    settings.MAIL_INBOUND_TOKEN = ""
    settings.MAIL_INBOUND_HMAC_SECRET = ""

    response = post(
        client, load_eml("new-question-multipart.eml"), Authorization="Bearer "
    )

    assert response.status_code == 404


def test_get_not_allowed(client):
    response = client.get(
        reverse("mail:inbound"), headers={"Authorization": f"Bearer {TOKEN}"}
    )

    assert response.status_code == 405


def test_own_echo_answered_as_dropped(client):
    raw = (
        b"From: Demo Shop support <support@shop.example>\r\n"
        b"To: zoe@example.org\r\nSubject: Re: hello\r\n"
        b"Message-ID: <echo@shop.example>\r\n\r\nOur own reply.\r\n"
    )

    response = post(client, raw, Authorization=f"Bearer {TOKEN}")

    assert response.status_code == 200
    assert response.json()["status"] == "dropped"
    assert InboundEmail.objects.count() == 0
