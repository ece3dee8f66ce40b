"""drf-spectacular additions that make ``/api/schema/`` say what the API really answers.

* ``ApiTokenScheme``: the personal-token authenticator
  (``portal.api.authentication.ApiTokenAuthentication``) as a security scheme,
  ``Authorization: Token <secret>``, as knox's own scheme would be.
* ``error_responses_add`` (a ``POSTPROCESSING_HOOKS`` entry): every operation
  documents the errors every view can answer (``portal.api.errors`` shapes them):
  400 (a DRF validation error: ``{"field": ["message", ...]}``, ``{"detail": ...}``
  or a list of messages), 401 (no or a bad token), 403 (not allowed; a read token
  on a write), 404 (missing or not yours: the same answer), 429 (throttled, with
  ``Retry-After``), and 413 on operations that take a body. An operation that
  documents one of these itself keeps its own.

Imported by ``portal.api.urls`` (the URLconf is loaded before any view is
inspected) so the scheme is registered in time; the hook is named in
``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]`` after drf-spectacular's own.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object

ERROR_SCHEMA = "Error"
VALIDATION_ERROR_SCHEMA = "ValidationError"
BODY_METHODS = frozenset({"post", "put", "patch"})
ERRORS: dict[str, tuple[str, str]] = {
    "400": (VALIDATION_ERROR_SCHEMA, "Invalid input; the body names each wrong field."),
    "401": (ERROR_SCHEMA, "No credentials, or a token that is invalid or expired."),
    "403": (ERROR_SCHEMA, "Not allowed (a read-only token on a write, or a viewer's right)."),
    "404": (ERROR_SCHEMA, "Not found, or not visible to you (the same answer)."),
    "429": (ERROR_SCHEMA, "Too many requests; retry after `Retry-After` seconds."),
}
BODY_ERRORS: dict[str, tuple[str, str]] = {
    "413": (ERROR_SCHEMA, "The request body is larger than the upload limit."),
}


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """``Authorization: Token <secret>`` (see the module docstring)."""

    target_class = "portal.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix=self.target.authenticate_header(None)
        )


def error_responses_add(result: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
    """Add the standard error responses and their schemas to ``result``."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas[ERROR_SCHEMA] = {
        "type": "object",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
        "additionalProperties": True,
        "description": 'An error: `{"detail": "..."}`, sometimes with more fields.',
    }
    schemas[VALIDATION_ERROR_SCHEMA] = {
        "oneOf": [
            {"type": "object", "additionalProperties": True},
            {"type": "array", "items": {"type": "string"}},
        ],
        "description": (
            'Invalid input: `{"field": ["message", ...]}` (nested for nested fields), '
            '`{"detail": "..."}`, or a list of messages.'
        ),
    }
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            errors = {**ERRORS, **(BODY_ERRORS if method in BODY_METHODS else {})}
            for status, (schema, description) in errors.items():
                responses.setdefault(status, _response(schema, description, status))
            _validation_error_allowed(responses["400"])
    return result


def _validation_error_allowed(response: dict[str, Any]) -> None:
    """An operation's own 400 body (a rejected import's run, say) or, since DRF
    validates the input first, a validation error."""
    content = response.get("content", {}).get("application/json")
    validation = {"$ref": f"#/components/schemas/{VALIDATION_ERROR_SCHEMA}"}
    if content is None or "schema" not in content:
        response.setdefault("content", {})["application/json"] = {"schema": validation}
    elif content["schema"] != validation:
        content["schema"] = {"anyOf": [content["schema"], validation]}


def _response(schema: str, description: str, status: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }
    if status == "429":
        response["headers"] = {
            "Retry-After": {
                "schema": {"type": "integer"},
                "description": "Seconds to wait before the next request.",
            }
        }
    return response
