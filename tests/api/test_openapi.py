"""The OpenAPI document is generated from the code and describes what the API does."""

from __future__ import annotations

import json
import re

import pytest

from app.api.endpoints import ENDPOINTS
from tests.api.conftest import ORDER_FIELDS


@pytest.fixture
def document(client):
    response = client.get("/v1/openapi.json")
    assert response.status_code == 200
    return response.json


# -- the document ---------------------------------------------------------------------------------


def test_document_is_openapi_3_1_with_bearer_security(document):
    assert document["openapi"] == "3.1.0"
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An access token from POST /oauth2/token.",
    }


def test_every_registered_endpoint_is_documented(document, app):
    paths = document["paths"]
    for endpoint in ENDPOINTS:
        path = re.sub(r"<(\w+)>", r"{\1}", endpoint.rule)
        assert endpoint.method.lower() in paths[path], path
    rules = {rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/v1/")}
    documented = {re.sub(r"\{(\w+)\}", r"<\1>", path) for path in paths}
    assert rules - {"/v1/openapi.json"} <= documented


def test_the_seed_endpoint_documents_headers_path_and_errors(document):
    operation = document["paths"]["/v1/guest-connections/{guest_org_id}"]["get"]
    parameters = {(p["in"], p["name"]): p for p in operation["parameters"]}
    assert set(parameters) == {
        ("header", "Requester-Organization-ID"),
        ("header", "Target-Organization-ID"),
        ("path", "guest_org_id"),
    }
    assert all(p["required"] and p["schema"]["format"] == "uuid" for p in parameters.values())
    assert operation["x-scenarios"] == ["self"]
    assert operation["security"] == [{"bearerAuth": []}]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/GuestConnection"
    }
    for status in ("401", "403", "404", "422", "503"):
        schema = operation["responses"][status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorBody"}


def test_guest_connection_schema_matches_the_contract(document):
    schema = document["components"]["schemas"]["GuestConnection"]
    properties = schema["properties"]
    nullable = {
        name
        for name, prop in properties.items()
        if any(option.get("type") == "null" for option in prop.get("anyOf", []))
    }
    assert nullable == {
        "guest_email",
        "owner_email",  # the issue overrides the contract: a host with no e-mail may invite
        "total_score",
        "score_updated_at",
        "archived_at",
        "active_action_type",
        "active_action_updated_at",
        "parent_organization_id",
        "parent_organization_name",
    }
    assert set(schema["required"]) == set(properties)
    assert properties["created_at"]["format"] == "date-time"
    owner = next(o for o in properties["owner_email"]["anyOf"] if o.get("type") == "string")
    assert owner["maxLength"] == 100
    score = next(o for o in properties["total_score"]["anyOf"] if o.get("type") == "number")
    assert score["minimum"] == 0


def test_docs_page_renders_with_vendored_assets(client):
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert len(assets) == 5  # Swagger UI's style and script, ours, and the favicon
    assert 'rel="icon" href="/static/img/favicon.svg"' in html
    assert '<a class="docs-bar__home" href="/">← Back to Guest Connections</a>' in html
    for asset in assets:
        response = client.get(asset)
        response.close()  # static files are streamed; close to release the file
        assert response.status_code == 200, asset
    assert "http://" not in html and "https://" not in html, "nothing is loaded from the internet"


def test_the_token_endpoint_documents_both_request_forms(document):
    operation = document["paths"]["/oauth2/token"]["post"]
    content = operation["requestBody"]["content"]
    assert content["application/json"]["schema"] == {
        "$ref": "#/components/schemas/JsonTokenRequest"
    }
    form = content["application/x-www-form-urlencoded"]["schema"]
    assert form == {"$ref": "#/components/schemas/FormTokenRequest"}
    assert "security" not in operation
    error = operation["responses"]["401"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/OAuthErrorBody"}
    assert "error" in document["components"]["schemas"]["OAuthErrorBody"]["properties"]
    assert "/.well-known/jwks.json" in document["paths"]


# -- the guest-connection list and archive --------------------------------------------------------


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
        "min_score",
        "max_score",
        "has_open_action",
        "score_older_than_days",
        "order_by",
        "order_dir",
        "limit",
        "offset",
        "updated_since",
        "cursor",
    ]
    assert not any(p["required"] for p in parameters.values())
    assert parameters["min_score"]["schema"]["minimum"] == 0
    assert parameters["has_open_action"]["schema"]["type"] == "boolean"
    assert parameters["score_older_than_days"]["schema"]["type"] == "integer"
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
    assert parameters["order_by"]["schema"]["enum"] == ORDER_FIELDS
    assert parameters["order_dir"]["schema"]["enum"] == ["asc", "desc"]
    limit = parameters["limit"]["schema"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 100, 10)
    assert parameters["offset"]["schema"]["minimum"] == 0
    assert operation["x-scenarios"] == ["self"]
    response = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert response == {"$ref": "#/components/schemas/GuestConnectionList"}
    assert sorted(operation["responses"]) == ["200", "304", "401", "403", "422", "503"]


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


# -- invitations, host connections, analytics, notifications --------------------------------------


OPERATIONS_WITH_SCENARIOS = [
    ("post", "/v1/guest-invitations", "201"),
    ("get", "/v1/guest-invitations", "200"),
    ("get", "/v1/guest-invitations/{invitation_id}", "200"),
    ("post", "/v1/guest-invitations/{invitation_id}/resend", "200"),
    ("patch", "/v1/guest-invitations/{invitation_id}", "200"),
    ("post", "/v1/host-connections", "201"),
    ("get", "/v1/host-connections", "200"),
    ("get", "/v1/host-connections/{host_org_id}", "200"),
    ("patch", "/v1/host-connections/{host_org_id}", "200"),
    ("post", "/v1/guest-connections/{guest_org_id}/disconnection-notification", "202"),
    ("post", "/v1/organizations/{org_id}/analytics/requests", "201"),
    ("post", "/v1/organizations/{org_id}/analytics", "201"),
    ("get", "/v1/guest-connections/{guest_org_id}/score-history", "200"),
]


@pytest.mark.parametrize(("method", "path", "success"), OPERATIONS_WITH_SCENARIOS)
def test_each_endpoint_is_documented(document, method, path, success):
    operation = document["paths"][path][method]
    assert success in operation["responses"]
    assert operation["x-scenarios"] == ["self"]
    assert {"401", "403", "422"} <= set(operation["responses"])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/v1/guest-invitations/{invitation_id}/resend"),
        ("patch", "/v1/guest-invitations/{invitation_id}"),
        ("get", "/v1/guest-connections/{guest_org_id}/score-history"),
    ],
)
def test_our_additions_say_so(document, method, path):
    assert "(ours)" in document["paths"][path][method]["summary"]


def test_conflicts_are_documented_with_their_codes(document):
    operation = document["paths"]["/v1/organizations/{org_id}/analytics/requests"]["post"]
    assert "409" in operation["responses"]
    assert "analytics_request_already_active" in operation["description"]


def test_accepted_by_system_is_defined(document):
    status = document["components"]["schemas"]["GuestInvitation"]["properties"]["status"]
    assert "accepted_by_system" in str(status)
    assert "without this invitation's token" in str(document["components"]["schemas"])


NEW_OPERATIONS = [
    ("post", "/v1/organizations/{org_id}/financial-statements", "201", ["self"]),
    ("get", "/v1/organizations/{org_id}/financial-statements", "200", ["self"]),
    ("get", "/v1/organizations/{org_id}/analytics", "200", ["host", "self"]),
    ("get", "/v1/organizations/{org_id}/analytics/{run_id}", "200", ["host", "self"]),
    ("get", "/v1/organizations/{org_id}", "200", ["guest", "host", "self"]),
]


@pytest.mark.parametrize(("method", "path", "success", "scenarios"), NEW_OPERATIONS)
def test_statements_runs_and_organizations_are_documented(
    document, method, path, success, scenarios
):
    operation = document["paths"][path][method]
    assert success in operation["responses"]
    assert operation["x-scenarios"] == scenarios


def test_a_run_takes_no_body_and_answers_the_originals_fields(document):
    """Is the run's body optional, and does the run carry the original's fields and ours?"""
    operation = document["paths"]["/v1/organizations/{org_id}/analytics"]["post"]
    run = document["components"]["schemas"]["AnalyticsRun"]
    statement_in = document["components"]["schemas"]["FinancialStatementCreate"]
    assert operation["requestBody"]["required"] is False
    assert {"id", "status", "created_at", "updated_at", "analyzed_on"} <= set(run["properties"])
    assert {"total_score", "model", "zone", "statement_period_end", "error"} <= set(
        run["properties"]
    )
    assert "total_assets" not in run["properties"]
    assert set(statement_in["required"]) == set(statement_in["properties"])
