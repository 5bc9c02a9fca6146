"""Problem details for bad input, the Decimal JSON parser, and the schema."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from rest_framework.exceptions import ParseError, ValidationError

from supportdesk.api.fields import AmountField
from supportdesk.api.parsers import DecimalJSONParser, RequestTooLarge
from supportdesk.api.problems import invalid_params
from supportdesk.tests.api_support import client_for

pytestmark = pytest.mark.django_db


def parse(text: str):
    return DecimalJSONParser().parse(io.BytesIO(text.encode()), "application/json")


def test_parser_reads_numbers_as_decimal():
    data = parse('{"amount": 6.95, "big": 12345678901234567890.01, "n": 3}')

    assert data["amount"] == Decimal("6.95")
    assert isinstance(data["amount"], Decimal)
    assert data["big"] == Decimal("12345678901234567890.01")
    assert data["n"] == 3


@pytest.mark.parametrize("text", ['{"a": NaN}', '{"a": Infinity}', "{", "\ud800"])
def test_parser_rejects_invalid_json(text):
    with pytest.raises(ParseError):
        DecimalJSONParser().parse(
            io.BytesIO(text.encode("utf-8", "surrogatepass")), "application/json"
        )


def test_parser_rejects_body_over_limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10

    with pytest.raises(RequestTooLarge) as error:
        parse('{"subject": "longer than ten bytes"}')

    assert error.value.status_code == 413


def test_invalid_params_flattens_nested_errors():
    detail = {
        "lines": [{}, {"quantity": ["Too small."]}],
        "non_field_errors": ["Pick one."],
        "tags": {2: ["Not a tag."]},
    }

    assert invalid_params(detail) == [
        {"name": "lines[1].quantity", "reason": "Too small."},
        {"name": "body", "reason": "Pick one."},
        {"name": "tags[2]", "reason": "Not a tag."},
    ]


def test_malformed_json_is_400_problem(agent):
    response = client_for(agent.user).post(
        "/api/v1/cases/", "{not json", content_type="application/json"
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "parse_error"


def test_deeply_nested_json_is_400_problem(client):
    body = "[" * 5000

    response = client.post("/api/v1/auth/token/", body, content_type="application/json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "parse_error"
    assert "nested too deeply" in problem["detail"]


def test_deeply_nested_case_body_is_400(agent):
    body = '{"subject": ' + "[" * 5000

    response = client_for(agent.user).post(
        "/api/v1/cases/", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_form_body_is_415(agent):
    response = client_for(agent.user).post(
        "/api/v1/cases/", "subject=x", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_wrong_method_is_405_problem(agent):
    response = client_for(agent.user).delete("/api/v1/cases/")

    assert response.status_code == 405
    assert response.json()["title"] == "Method not allowed"


def test_validation_error_lists_fields(agent):
    response = client_for(agent.user).post(
        "/api/v1/refunds/",
        {"order_number": "", "lines": [{"position": 0, "quantity": 1}]},
        format="json",
    )

    problem = response.json()
    assert response.status_code == 400
    assert problem["type"] == "urn:supportdesk:problem:invalid"
    names = {p["name"] for p in problem["invalid_params"]}
    assert names == {"order_number", "lines[0].position", "reason_code"}


def test_schema_is_openapi_3(client):
    response = client.get(
        "/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/refunds/{reference}/approve/" in schema["paths"]
    assert "Problem" in schema["components"]["schemas"]


def test_docs_page_uses_local_static_files(client):
    response = client.get("/api/v1/docs/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn.jsdelivr.net" not in html


def test_docs_page_declares_its_language(client):
    html = client.get("/api/v1/docs/").content.decode()

    assert '<html lang="en">' in html
    assert "SwaggerUIBundle" in html


@pytest.mark.parametrize(
    "value",
    [
        True,
        None,
        ["6.95"],
        "6,95",
        "NaN",
        "Infinity",
        "1" * 33,
        "1e12",
        Decimal("-1e13"),
    ],
)
def test_amount_field_rejects_invalid(value):
    field = AmountField()

    with pytest.raises(ValidationError):
        field.run_validation(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("6.95", Decimal("6.95")), (Decimal("6.95"), Decimal("6.95")), (7, Decimal(7))],
)
def test_amount_field_reads_exact_decimal(value, expected):
    assert AmountField().run_validation(value) == expected


def test_parser_without_body_or_limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = None

    with pytest.raises(ParseError):
        DecimalJSONParser().parse(None, "application/json")
    assert parse('{"a": 1.5}') == {"a": Decimal("1.5")}


def test_out_of_range_references_are_404(supervisor):
    client = client_for(supervisor.user)
    huge = "9" * 30

    case = client.get(f"/api/v1/cases/C-{huge}/")
    refund = client.post(f"/api/v1/refunds/R-{huge}/approve/", {}, format="json")
    order = client.get(f"/api/v1/orders/{huge * 100}/")

    assert case.status_code == 404
    assert refund.status_code == 404
    assert order.status_code == 404


@pytest.mark.parametrize("debug", [False, True])
def test_body_over_limit_is_413_problem(client, settings, debug):
    settings.DEBUG = debug
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"username": "' + "x" * 2000 + '"}'

    response = client.post("/api/v1/auth/token/", body, content_type="application/json")

    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "request_too_large"
    assert problem["max_bytes"] == 1000
    assert problem["detail"] == (
        "The request body is larger than the limit of 1,000 bytes. Send a smaller body."
    )


def test_html_page_body_over_limit_stays_400(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = client.post("/contact/", {"body": "x" * 2000})

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    "path", ["/api/v1/orders/%2F..%2F/", "/api/v1/nothing/", "/api/nothing"]
)
def test_unknown_api_path_is_404_problem(client, settings, path, debug):
    settings.DEBUG = debug

    response = client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


def test_api_path_without_slash_names_the_endpoint(client):
    response = client.get("/api/v1/cases")

    assert response.status_code == 404
    assert response.json()["detail"] == (
        "No API endpoint has this path. Did you mean /api/v1/cases/?"
    )


def test_unknown_page_path_stays_html_404(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("cursor", ["%%%", "garbage", "é"])
def test_invalid_cursor_is_400_naming_it(agent, cursor):
    response = client_for(agent.user).get("/api/v1/cases/", {"cursor": cursor})

    assert response.status_code == 400
    assert response.json()["invalid_params"][0]["name"] == "cursor"
