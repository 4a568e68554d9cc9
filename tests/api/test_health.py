"""/healthz and /readyz: alive, and ready only while the database answers."""

from app import create_app


def test_health_endpoints(client):
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json == {"status": "ready"}


def test_readyz_is_503_when_the_database_is_unreachable(tmp_path):
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
