"""Declaring an API endpoint: its scenarios, inputs and response, in one visible place.

The decorator authenticates the caller, parses headers, path, query and body with their pydantic
models (every problem reported at once, as 422), applies the access rule for the declared
scenarios, calls the view, and serializes its result. The OpenAPI document is built from the
same declarations (app/api/openapi.py), so documentation and behaviour cannot drift apart.
"""

from __future__ import annotations

import functools
import hashlib
import json
import types
import typing
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, request
from pydantic import BaseModel, Field, ValidationError

from app.access import Scenario, authorize
from app.api.auth import authenticate_api_client
from app.database import read_without_transaction
from app.errors import AppError, ValidationFailed
from app.schemas import ErrorBody, Role, Schema


class OrganizationHeaders(Schema):
    requester: uuid.UUID = Field(
        alias="Requester-Organization-ID",
        description="The organization acting; the caller must belong to it.",
        examples=["054b4106-174b-46b0-97f8-86d8d7b6f0af"],
    )
    target: uuid.UUID = Field(
        alias="Target-Organization-ID",
        description="The organization acted on: the requester itself for the Self scenario.",
        examples=["054b4106-174b-46b0-97f8-86d8d7b6f0af"],
    )


ORGANIZATION_HEADERS = ("Requester-Organization-ID", "Target-Organization-ID")


class UnsupportedMediaType(AppError):
    status = 415
    code = "unsupported_media_type"
    type = "request"
    message = "The request body must be JSON (Content-Type: application/json)."


@dataclass(frozen=True)
class Endpoint:
    method: str
    rule: str  # Flask rule, e.g. /guest-connections/<guest_org_id>
    name: str
    summary: str
    description: str
    tag: str
    scenarios: frozenset[Scenario]
    response: type[BaseModel] | None
    minimum_role: Role = Role.MEMBER
    status: int = 200
    path: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    errors: tuple[int, ...] = field(default=())
    form_body: type[BaseModel] | None = None  # a form-encoded alternative to the JSON body
    body_required: bool = True  # False: a request without a body is read as {}
    error_body: type[BaseModel] = ErrorBody


ENDPOINTS: list[Endpoint] = []


def document_public_endpoint(
    method: str,
    rule: str,
    *,
    name: str,
    summary: str,
    description: str,
    tag: str,
    response: type[BaseModel],
    errors: tuple[int, ...],
    body: type[BaseModel] | None = None,
    form_body: type[BaseModel] | None = None,
    error_body: type[BaseModel] = ErrorBody,
) -> None:
    """Describe in OpenAPI an endpoint that takes no organization headers and has its own view."""
    ENDPOINTS.append(
        Endpoint(
            method=method,
            rule=rule,
            name=name,
            summary=summary,
            description=description,
            tag=tag,
            scenarios=frozenset(),
            response=response,
            body=body,
            form_body=form_body,
            error_body=error_body,
            errors=tuple(sorted(errors)),
        )
    )


def api_endpoint(
    blueprint: Blueprint,
    method: str,
    rule: str,
    *,
    summary: str,
    tag: str,
    scenarios: set[Scenario],
    response: type[BaseModel] | None,
    status: int = 200,
    path: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    body_required: bool = True,
    minimum_role: Role = Role.MEMBER,
    not_found: bool = False,
    conflict: bool = False,
) -> Callable:
    """Register an organization-scoped endpoint; the view gets (access, path=, query=, body=).

    The caller must hold at least minimum_role in the requester organization (an API client
    acts as its organization's owner). With body_required=False, a request with no body at all
    is validated as an empty JSON object.
    """

    def decorator(view: Callable[..., Any]) -> Callable[..., Response]:
        errors = [401, 403, 422, 503]
        if not_found:
            errors.append(404)
        if conflict:
            errors.append(409)
        if body is not None:
            errors.extend([413, 415])
        endpoint = Endpoint(
            method=method,
            rule=blueprint.url_prefix + rule if blueprint.url_prefix else rule,
            name=view.__name__,
            summary=summary,
            description=(view.__doc__ or summary).strip(),
            tag=tag,
            scenarios=frozenset(scenarios),
            response=response,
            minimum_role=minimum_role,
            status=status,
            path=path,
            query=query,
            body=body,
            body_required=body_required,
            errors=tuple(sorted(errors)),
        )
        ENDPOINTS.append(endpoint)

        @functools.wraps(view)
        def handle(**path_values: str) -> Response:
            if endpoint.method == "GET":
                read_without_transaction()
            principal = authenticate_api_client()
            headers, inputs = _parse(endpoint, path_values)
            access = authorize(
                principal,
                headers.requester,
                headers.target,
                endpoint.scenarios,
                minimum_role=endpoint.minimum_role,
            )
            result = view(access, **inputs)
            if endpoint.method == "GET":
                return _respond_conditionally(result)
            return _respond(result, endpoint.status)

        blueprint.add_url_rule(rule, endpoint=view.__name__, view_func=handle, methods=[method])
        return handle

    return decorator


def _parse(endpoint: Endpoint, path_values: dict[str, str]) -> tuple[OrganizationHeaders, dict]:
    """Validate every input of the request, collecting all problems into one ValidationFailed."""
    problems: list[dict[str, Any]] = []
    inputs: dict[str, BaseModel] = {}
    headers = _validate(OrganizationHeaders, _organization_headers(), "header", problems)
    if endpoint.path is not None:
        inputs["path"] = _validate(endpoint.path, path_values, "path", problems)
    problems.extend(_unknown_query_parameters(endpoint.query))
    if endpoint.query is not None:
        inputs["query"] = _validate(endpoint.query, _query_input(endpoint.query), "query", problems)
    if endpoint.body is not None:
        no_body = not endpoint.body_required and not request.get_data(cache=True)
        data = {} if no_body else _json_body(problems)
        if data is not _NOT_JSON:
            inputs["body"] = _validate(endpoint.body, data, "body", problems)
    if problems:
        raise ValidationFailed(problems)
    return headers, inputs  # type: ignore[return-value]


def _organization_headers() -> dict[str, str]:
    """Return the organization headers that were sent.

    A header sent twice reaches us as one value joined with commas (WSGI), which is not a
    UUID: refused with the rest, so no copy is ever picked over the other.
    """
    headers = request.headers
    return {name: headers[name] for name in ORGANIZATION_HEADERS if name in headers}


def _validate(
    model: type[BaseModel], data: Any, source: str, problems: list[dict[str, Any]]
) -> BaseModel | None:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems.extend(ValidationFailed.from_pydantic(error, source).errors)
        return None


def _unknown_query_parameters(model: type[BaseModel] | None) -> list[dict[str, Any]]:
    """Return a problem for every query parameter the endpoint does not take.

    Ignoring one would let a client believe it filtered (e.g. a misspelt updated_since).
    """
    if not request.query_string:  # the raw bytes: parsing them (request.args) costs more
        return []
    known = _query_parameter_names(model)
    takes = f"this endpoint takes {', '.join(sorted(known))}" if known else "it takes none"
    return [
        ValidationFailed.problem(["query", name], f"Unknown query parameter {name!r}: {takes}.")
        for name in request.args
        if name not in known
    ]


@functools.cache
def _query_parameter_names(model: type[BaseModel] | None) -> frozenset[str]:
    return frozenset(
        info.alias or name for name, info in (model.model_fields if model else {}).items()
    )


def _query_input(model: type[BaseModel]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key in request.args:
            values[key] = (
                request.args.getlist(key) if _is_list(info.annotation) else request.args[key]
            )
    return values


def _is_list(annotation: Any) -> bool:
    """Tell whether a query field takes repeated values (list[...] or list[...] | None)."""
    if typing.get_origin(annotation) is list:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(typing.get_origin(arg) is list for arg in typing.get_args(annotation))
    return False


_NOT_JSON = object()


def _json_body(problems: list[dict[str, Any]]) -> Any:
    """Return the decoded JSON body (or _NOT_JSON, noting the problem); raise 415 if not JSON."""
    if not request.is_json:
        raise UnsupportedMediaType()
    try:
        return json.loads(request.get_data(cache=True))
    except ValueError:  # also UnicodeDecodeError
        problems.append(ValidationFailed.problem(["body"], "The body is not valid JSON."))
        return _NOT_JSON


def _respond(result: BaseModel | None, status: int) -> Response:
    if result is None:
        return Response(status=status)
    return Response(result.model_dump_json(), status=status, mimetype="application/json")


_CONDITIONAL_HEADERS = (
    ("Cache-Control", "private, no-cache"),
    ("Vary", ", ".join(("Authorization", *ORGANIZATION_HEADERS))),
)


def _respond_conditionally(result: BaseModel | bytes) -> Response:
    """Answer a read with an ETag of its body; 304 without a body if the client has it.

    The tag is a digest of exactly the bytes sent, so any change to what the response shows
    changes it. Clients must revalidate each time (no-cache), and no shared cache keeps it.
    Built by hand rather than with make_conditional(), which also weighs dates and ranges
    that these answers never have: a tenth of a read's time. A view may return its response
    model's JSON already rendered (bytes), e.g. a list built straight from rows.
    """
    body = result if isinstance(result, bytes) else result.model_dump_json().encode()
    etag = hashlib.sha256(body).hexdigest()[:32]
    headers = [("ETag", f'"{etag}"'), *_CONDITIONAL_HEADERS]
    if "HTTP_IF_NONE_MATCH" in request.environ and request.if_none_match.contains_weak(etag):
        return Response(status=304, headers=headers)
    return Response(body, status=200, headers=headers, mimetype="application/json")
