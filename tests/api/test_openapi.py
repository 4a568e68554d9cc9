"""The OpenAPI document is generated from the code and describes what the API does."""

import re

from app.api.endpoints import ENDPOINTS


def test_document_is_openapi_3_1_with_bearer_security(client):
    document = client.get("/v1/openapi.json").json
    assert document["openapi"] == "3.1.0"
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An access token from POST /oauth2/token.",
    }


def test_every_registered_endpoint_is_documented(client, app):
    paths = client.get("/v1/openapi.json").json["paths"]
    for endpoint in ENDPOINTS:
        path = re.sub(r"<(\w+)>", r"{\1}", endpoint.rule)
        assert endpoint.method.lower() in paths[path], path
    rules = {rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/v1/")}
    documented = {re.sub(r"\{(\w+)\}", r"<\1>", path) for path in paths}
    assert rules - {"/v1/openapi.json"} <= documented


def test_the_seed_endpoint_documents_headers_path_and_errors(client):
    operation = client.get("/v1/openapi.json").json["paths"][
        "/v1/guest-connections/{guest_org_id}"
    ]["get"]
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


def test_guest_connection_schema_matches_the_contract(client):
    schema = client.get("/v1/openapi.json").json["components"]["schemas"]["GuestConnection"]
    properties = schema["properties"]
    nullable = {
        name
        for name, prop in properties.items()
        if any(option.get("type") == "null" for option in prop.get("anyOf", []))
    }
    assert nullable == {
        "guest_email",
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
    assert properties["owner_email"]["maxLength"] == 100
    score = next(o for o in properties["total_score"]["anyOf"] if o.get("type") == "number")
    assert score["minimum"] == 0


def test_docs_page_renders_with_vendored_assets(client):
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert len(assets) == 3
    for asset in assets:
        response = client.get(asset)
        response.close()  # static files are streamed; close to release the file
        assert response.status_code == 200, asset
    assert "http://" not in html and "https://" not in html, "nothing is loaded from the internet"


def test_health_endpoints(client):
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json == {"status": "ready"}


def test_readyz_is_503_when_the_database_is_unreachable(tmp_path):
    from app import create_app

    app = create_app(
        {
            "APP_ENV": "testing",
            "DATABASE_URL": f"sqlite:///{tmp_path}/missing/dir/db.sqlite",
            "SECRET_KEY": "x" * 40,
            "INSTANCE_PATH": str(tmp_path),
        }
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["detail"][0]["code"] == "service_unavailable"


def test_the_token_endpoint_documents_both_request_forms(client):
    document = client.get("/v1/openapi.json").json
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
