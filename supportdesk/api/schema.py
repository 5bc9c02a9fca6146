"""OpenAPI additions: the problem details schema on every operation."""

from __future__ import annotations

from supportdesk.api.problems import PROBLEM_CONTENT_TYPE

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "An error as RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string", "example": "urn:supportdesk:problem:conflict"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "invalid_params": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "reason": {"type": "string"},
                },
                "required": ["name", "reason"],
            },
        },
        "reasons": {"type": "array", "items": {"type": "string"}},
        "eligibility_trace": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["type", "title", "status", "detail", "code"],
}

DESCRIPTIONS = {
    "304": "Not modified: the If-None-Match header holds the current ETag.",
    "400": "Invalid input, or a business rule the request would break.",
    "401": "No valid access token.",
    "403": "The role or the approval limit does not allow this.",
    "404": "Not found, or outside what the caller may see.",
    "405": "Method not allowed.",
    "406": "No acceptable response format.",
    "409": "The object's state does not allow this now.",
    "415": "The body is not JSON.",
    "422": "The Idempotency-Key was used with another body.",
    "429": "Too many requests; wait for Retry-After seconds.",
}
PUBLIC_PATHS = ("/api/v1/auth/",)


def add_problem_responses(result, generator, request, public):
    """Document the error responses that every operation can return."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = (
        PROBLEM_SCHEMA
    )
    problem = {
        PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}
    }
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            codes = ["400", "401", "405", "406", "429"]
            if not path.startswith(PUBLIC_PATHS):
                codes.append("403")
            if "{" in path:
                codes.append("404")
            if method in ("post", "patch", "put"):
                codes += ["409", "415"]
            if method == "post" and path.endswith("/refunds/"):
                codes.append("422")
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(
                    code, {"description": DESCRIPTIONS[code], "content": problem}
                )
            if method == "get" and "{" in path:
                responses.setdefault("304", {"description": DESCRIPTIONS["304"]})
                _add_etag_headers(operation)
    return result


def _add_etag_headers(operation) -> None:
    parameters = operation.setdefault("parameters", [])
    parameters.append(
        {
            "name": "If-None-Match",
            "in": "header",
            "required": False,
            "schema": {"type": "string"},
            "description": "An ETag from an earlier response; 304 if unchanged.",
        }
    )
    ok = operation["responses"].get("200")
    if ok is not None:
        ok.setdefault("headers", {})["ETag"] = {
            "schema": {"type": "string"},
            "description": "The representation's version.",
        }
