"""The OpenAPI 3.1 document, generated from the endpoint declarations and their pydantic models."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from flask import Blueprint, current_app, jsonify, render_template
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from app.api import bp
from app.api.endpoints import ENDPOINTS, Endpoint, OrganizationHeaders
from app.schemas import ErrorBody

docs_bp = Blueprint("docs", __name__)

ERROR_MEANINGS = {
    400: "An OAuth 2.0 request error (RFC 6749 'error' in the body): an unsupported grant type, "
    "or client credentials sent twice.",
    401: "Not authenticated: no valid bearer token (missing, malformed, expired, or from a "
    "revoked client), or, at the token endpoint, wrong client credentials.",
    403: "The caller does not act for the requester, or this scenario is not allowed.",
    404: "No such resource for this target organization.",
    409: "The request conflicts with the current state; the code says which (see above).",
    413: "The request body is larger than the server accepts.",
    415: "The request body is not JSON.",
    422: "A header, path, query or body value is missing or invalid; every problem is listed.",
    429: "Too many requests; retry after the number of seconds in Retry-After.",
    503: "The database is unreachable or the service is under maintenance.",
}
REF = "#/components/schemas/{model}"


@bp.get("/openapi.json")
def openapi_document():
    """Serve the OpenAPI 3.1 document."""
    return jsonify(build_document())


@docs_bp.get("/openapi.json")
def openapi_document_at_root():
    """Serve the same OpenAPI document at the root, where the original platform has it."""
    return jsonify(build_document())


@docs_bp.get("/docs")
def docs_page():
    """Serve the page that renders the OpenAPI document (vendored Swagger UI)."""
    return render_template("docs/index.html")


@cache
def _document_template() -> dict[str, Any]:
    # Endpoints are registered at import time, so the document is the same for every app.
    models: set[type[BaseModel]] = {ErrorBody}
    for endpoint in ENDPOINTS:
        # Bodies are read (validation mode) only; a decimal is a number or a string there.
        if endpoint.response is not None:
            models.add(endpoint.response)
        models.add(endpoint.error_body)
    inputs = {m for e in ENDPOINTS for m in (e.body, e.form_body) if m is not None}
    _, schemas = models_json_schema(
        [(model, "serialization") for model in sorted(models, key=lambda m: m.__name__)]
        + [(model, "validation") for model in sorted(inputs, key=lambda m: m.__name__)],
        ref_template=REF,
    )
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in ENDPOINTS:
        openapi_path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", endpoint.rule)
        paths.setdefault(openapi_path, {})[endpoint.method.lower()] = _operation(endpoint)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Guest Connections API",
            "version": "1.0.0",
            "description": (
                "A host organization's guest connections. Get a token from POST /oauth2/token "
                "with your API client's credentials, then send it as a Bearer token together "
                "with the Requester-Organization-ID and Target-Organization-ID headers."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "An access token from POST /oauth2/token.",
                },
            },
        },
    }


def build_document() -> dict[str, Any]:
    """Return the OpenAPI document, with this server's URL."""
    document = dict(_document_template())
    public_url = current_app.config.get("PUBLIC_URL")
    if public_url:
        document["servers"] = [{"url": public_url.rstrip("/")}]
    return document


def _operation(endpoint: Endpoint) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": endpoint.name,
        "summary": endpoint.summary,
        "description": endpoint.description,
        "tags": [endpoint.tag],
        "parameters": _parameters(endpoint),
        "responses": _responses(endpoint),
    }
    if endpoint.scenarios:
        allowed = ", ".join(sorted(s.value.capitalize() for s in endpoint.scenarios))
        role = endpoint.minimum_role.value
        operation["description"] += (
            f"\n\nAllowed scenarios: {allowed}. Lowest role: {role} (an API client acts as owner)."
        )
        operation["x-scenarios"] = sorted(s.value for s in endpoint.scenarios)
        operation["x-minimum-role"] = role
        operation["security"] = [{"bearerAuth": []}]
    bodies = {"application/json": endpoint.body}
    bodies["application/x-www-form-urlencoded"] = endpoint.form_body
    content = {
        media_type: {"schema": {"$ref": REF.format(model=model.__name__)}}
        for media_type, model in bodies.items()
        if model is not None
    }
    if content:
        operation["requestBody"] = {"required": endpoint.body_required, "content": content}
    return operation


def _parameters(endpoint: Endpoint) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = []
    sources = [("path", endpoint.path), ("query", endpoint.query)]
    if endpoint.scenarios:
        sources.insert(0, ("header", OrganizationHeaders))
    for location, model in sources:
        if model is None:
            continue
        schema = model.model_json_schema(ref_template=REF)
        required = set(schema.get("required", []))
        definitions = schema.get("$defs", {})
        for name, property_schema in schema["properties"].items():
            property_schema = _parameter_schema(property_schema, definitions)
            description = property_schema.pop("description", None)
            parameter = {
                "name": name,
                "in": location,
                "required": location == "path" or name in required,
                "schema": property_schema,
            }
            if description:
                parameter["description"] = description
            parameters.append(parameter)
    return parameters


def _parameter_schema(schema: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """Return a parameter's schema self-contained: enums written out, no null alternative.

    A parameter is absent rather than null, and its enum values belong in the parameter itself,
    where clients and the docs page read them.
    """
    schema = _inline(schema, definitions)
    alternatives = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    if len(alternatives) == 1 and len(schema["anyOf"]) == 2:
        rest = {k: v for k, v in schema.items() if k != "anyOf"}
        if rest.get("default", ...) is None:
            del rest["default"]
        schema = {**alternatives[0], **rest}
    return schema


def _inline(value: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        reference = value.get("$ref", "")
        if reference.startswith(REF.format(model="")):
            target = definitions[reference.rsplit("/", 1)[1]]
            rest = {k: v for k, v in value.items() if k != "$ref"}
            return _inline({**target, **rest}, definitions)
        return {k: _inline(v, definitions) for k, v in value.items()}
    if isinstance(value, list):
        return [_inline(item, definitions) for item in value]
    return value


def _responses(endpoint: Endpoint) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    if endpoint.response is None:
        responses[str(endpoint.status)] = {"description": "Done; no body."}
    else:
        responses[str(endpoint.status)] = {
            "description": "Successful response.",
            "content": {
                "application/json": {
                    "schema": {"$ref": REF.format(model=endpoint.response.__name__)}
                }
            },
        }
    if endpoint.method == "GET" and endpoint.scenarios:  # see _respond_conditionally
        responses[str(endpoint.status)]["headers"] = {
            "ETag": {
                "description": "The answer's tag: send it as If-None-Match to revalidate.",
                "schema": {"type": "string"},
            },
            "Cache-Control": {"schema": {"type": "string", "examples": ["private, no-cache"]}},
        }
        responses["304"] = {"description": "Not modified: If-None-Match still matches; no body."}
    for status in endpoint.errors:
        responses[str(status)] = {
            "description": ERROR_MEANINGS[status],
            "content": {
                "application/json": {
                    "schema": {"$ref": REF.format(model=endpoint.error_body.__name__)}
                }
            },
        }
    return responses
