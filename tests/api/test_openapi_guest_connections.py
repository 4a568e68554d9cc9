"""The OpenAPI document describes the list and archive endpoints, their parameters and body."""

from __future__ import annotations

import json
import re

import pytest


@pytest.fixture
def document(client):
    response = client.get("/v1/openapi.json")
    assert response.status_code == 200
    return response.json


def query_parameters(operation) -> dict:
    return {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}


def test_the_list_documents_every_query_parameter(document):
    """Does GET /v1/guest-connections name every parameter with its values and bounds?"""
    operation = document["paths"]["/v1/guest-connections"]["get"]
    parameters = query_parameters(operation)
    assert list(parameters) == [
        "statuses",
        "archived",
        "search_field",
        "search_text",
        "parent_organization_id",
        "order_by",
        "order_dir",
        "limit",
        "offset",
    ]
    assert not any(p["required"] for p in parameters.values())
    statuses = parameters["statuses"]["schema"]
    assert statuses["type"] == "array"
    assert statuses["items"]["enum"] == ["connected", "disconnected"]
    assert parameters["archived"]["schema"]["type"] == "boolean"
    assert parameters["search_field"]["schema"]["enum"] == [
        "guest_name",
        "guest_email",
        "owner_email",
    ]
    assert parameters["search_field"]["schema"]["default"] == "guest_name"
    text = parameters["search_text"]["schema"]
    assert (text["type"], text["minLength"], text["maxLength"]) == ("string", 1, 255)
    assert parameters["parent_organization_id"]["schema"]["format"] == "uuid"
    assert parameters["order_by"]["schema"]["enum"] == [
        "guest_name",
        "guest_email",
        "owner_email",
        "total_score",
        "created_at",
        "updated_at",
        "score_updated_at",
        "archived_at",
        "active_action_updated_at",
    ]
    assert parameters["order_dir"]["schema"]["enum"] == ["asc", "desc"]
    limit = parameters["limit"]["schema"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 100, 10)
    assert parameters["offset"]["schema"]["minimum"] == 0
    assert operation["x-scenarios"] == ["self"]
    response = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert response == {"$ref": "#/components/schemas/GuestConnectionList"}
    assert sorted(operation["responses"]) == ["200", "401", "403", "422", "503"]


def test_the_patch_documents_its_body(document):
    """Does PATCH document its required {"archived": bool} body, 404 and 415?"""
    operation = document["paths"]["/v1/guest-connections/{guest_org_id}"]["patch"]
    body = operation["requestBody"]
    assert body["required"] is True
    reference = body["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][reference.rsplit("/", 1)[1]]
    assert schema["required"] == ["archived"]
    assert schema["properties"]["archived"]["type"] == "boolean"
    assert schema["additionalProperties"] is False
    assert [p["name"] for p in operation["parameters"] if p["in"] == "path"] == ["guest_org_id"]
    assert sorted(operation["responses"]) == [
        "200",
        "401",
        "403",
        "404",
        "413",
        "415",
        "422",
        "503",
    ]
    assert operation["x-scenarios"] == ["self"]


def test_every_reference_resolves(document):
    """Does every $ref point at a schema the document contains?"""
    references = set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', json.dumps(document)))
    assert references
    assert references <= set(document["components"]["schemas"])
