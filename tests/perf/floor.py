"""The floor: a bare Flask app whose one route returns a constant JSON body.

Served by the benchmark with the same gunicorn settings as the app, so that its requests/s are
the most this stack (gunicorn + Flask + the load generator, on this machine) can give.
FLOOR_BODY_BYTES sets the body's size, the size of a guest connection.
"""

from __future__ import annotations

import json
import os

from flask import Flask, Response


def constant_body(size: int) -> bytes:
    """Return a JSON object of exactly size bytes (at least 16)."""
    skeleton = json.dumps({"padding": ""}).encode()
    return json.dumps({"padding": "x" * max(size - len(skeleton), 0)}).encode()


def create_floor_app() -> Flask:
    """Build the bare app: one route, no extensions."""
    app = Flask(__name__)
    body = constant_body(int(os.environ.get("FLOOR_BODY_BYTES", "700")))

    @app.get("/floor")
    def floor() -> Response:
        return Response(body, mimetype="application/json")

    return app


app = create_floor_app()
