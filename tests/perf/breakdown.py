"""Where the time of GET /v1/guest-connections/{id} goes: CPU µs of each part, in process.

Run: `.venv/bin/python tests/perf/breakdown.py` (SQLite in a temporary folder; set
BENCH_DATABASE_URL to use PostgreSQL — that database is emptied). Each line is the CPU time of
one part, measured alone over many calls; the parts of a request are not additive to the µs,
but they show what bounds the ratio to the floor.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench  # noqa: E402
from floor import create_floor_app  # noqa: E402

ROUNDS = 2000


def cpu_us(function: Callable[[], object], rounds: int = ROUNDS) -> float:
    for _ in range(rounds // 10):
        function()
    started = time.process_time()
    for _ in range(rounds):
        function()
    return (time.process_time() - started) / rounds * 1e6


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="gc-breakdown-") as tmp:
        url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{Path(tmp) / 'b.db'}"
        env = bench.server_env(url, Path(tmp))
        bench.empty_database(url)
        bench.flask(env, "db", "upgrade")
        host = bench.flask(env, "orgs", "create", "--name", "Breakdown Host")
        bench.flask(env, "seed-scale", "--host", host, "--count", "1000")
        output = bench.flask(env, "api-clients", "create", "--org", host, "--name", "b")
        credentials = json.loads(output.splitlines()[-1])
        targets, body_size = bench.inspect_in_process(env, uuid.UUID(host), credentials)
        detail = next(t for t in targets if t.key == "detail")
        with bench.environment(env | {"FLOOR_BODY_BYTES": str(body_size)}):
            from app import create_app

            app = create_app()
            floor = create_floor_app()
        print(f"{'part (each measured alone)':<52} {'CPU µs':>8}")
        for label, value in measure(app, floor, detail, uuid.UUID(host)):
            print(f"{label:<52} {value:8.0f}")


def session_cycle(db) -> None:
    db.session.connection()
    db.session.remove()


def measure(app, floor, detail, host_id: uuid.UUID) -> list[tuple[str, float]]:
    """Return (part, CPU µs) for the whole request and for each of its parts alone."""
    from app import schemas
    from app.api.auth import authenticate_api_client
    from app.extensions import db
    from app.services import guest_connections
    from app.services.tokens import _verified_signature, verify_access_token

    client, floor_client = app.test_client(), floor.test_client()
    token = detail.headers["Authorization"].removeprefix("Bearer ")
    guest_id = uuid.UUID(detail.path.rsplit("/", 1)[1])
    rows = [
        ("floor: whole request (test client)", cpu_us(lambda: floor_client.get("/floor"))),
        ("app: GET /healthz (no database)", cpu_us(lambda: client.get("/healthz"))),
        (
            "app: GET /v1/guest-connections/{id}",
            cpu_us(lambda: client.get(detail.path, headers=detail.headers)),
        ),
    ]
    with app.test_request_context(headers=detail.headers):
        connection = guest_connections.get_guest_connection(host_id, guest_id)
        row = connection.model_dump()
        rows += [
            (
                "  token signature check (ES256, joserfc)",
                cpu_us(lambda: _verified_signature(token)),
            ),
            ("  token already verified: claims only", cpu_us(lambda: verify_access_token(token))),
            ("  token + revoked-client query", cpu_us(authenticate_api_client)),
            (
                "  guest connection query + schema",
                cpu_us(lambda: guest_connections.get_guest_connection(host_id, guest_id)),
            ),
            ("  schema from a row (pydantic)", cpu_us(lambda: schemas.GuestConnection(**row))),
            ("  database session: open, connect, close", cpu_us(lambda: session_cycle(db))),
            ("  JSON of the schema (pydantic)", cpu_us(connection.model_dump_json)),
        ]
        db.session.remove()
    return rows


if __name__ == "__main__":
    main()
