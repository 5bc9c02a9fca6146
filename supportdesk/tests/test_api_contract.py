"""Contract test: Schemathesis sends generated requests to every operation.

The requests go in-process to the WSGI application, authenticated as a
supervisor, against a database holding one order, one case and one refund.
Every response must be a non-5xx that matches the OpenAPI schema: status
code, content type, headers and body. Examples per operation are bounded
(CONTRACT_EXAMPLES, 25 by default) so the suite stays quick on two cores.
"""

from __future__ import annotations

import json
import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema

from supportdesk.tests.api_support import make_order, obtain_tokens
from supportdesk.wsgi import application

EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "25"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def load_schema() -> OpenApiSchema:
    """Generate the schema in-process and point Schemathesis at the WSGI app.

    NOTE: schemathesis.pytest.from_fixture fails on pytest 9 (Schemathesis
    4.32.5 sets Function._nodeid, which pytest 9 no longer has), so the
    schema is loaded when the module is collected instead.
    """
    generator = SchemaGenerator(patterns=None)
    document = generator.get_schema(request=None, public=True)
    raw = json.loads(OpenApiJsonRenderer().render(document))
    loaded = schemathesis.openapi.from_dict(raw)
    loaded.app = application
    return loaded


@pytest.fixture
def supervisor_token(supervisor, policy, settings):
    """Seed an order with a refund, then let requests reach the app in-process.

    Returns a supervisor's access token.
    """
    order = make_order()
    access = obtain_tokens(supervisor.user)["access"]
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {access}")
    client.post(
        "/api/v1/refunds/",
        {
            "order_number": order.number,
            "lines": [{"position": 1, "quantity": 1}],
            "reason_code": "damaged",
        },
        format="json",
    )
    settings.ALLOWED_HOSTS = ["localhost"]  # the host Schemathesis sends
    # Keep the test's database connection open across requests, as Django's
    # test client does, since the test's transaction holds the data. The test
    # client connects these again after each request, so it runs first.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield access
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


schema = load_schema()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_matches_schema(case, supervisor_token):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {supervisor_token}"}, checks=CHECKS
    )
