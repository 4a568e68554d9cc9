"""The README's API walk-through works exactly as written, against a live server."""

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

README = Path(__file__).resolve().parent.parent / "README.md"


def walkthrough_blocks() -> list[str]:
    text = README.read_text()
    section = text.split("## The API in five minutes", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.S)


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_the_walkthrough_runs_as_written(app, live_server):
    setup, errors = walkthrough_blocks()
    venv_bin = str(Path(sys.executable).parent)
    script = setup.replace("source .venv/bin/activate\n", "") + "\n" + errors
    script = script.replace("BASE=http://127.0.0.1:5000", f"BASE={live_server}")
    # Each answer printed by a curl on its own line, so they can be checked one by one.
    script = re.sub(r"^curl -s", "curl -s -w '\\n'", script, flags=re.M)
    environment = {
        **os.environ,
        "PATH": f"{venv_bin}:{os.environ['PATH']}",
        "APP_ENV": app.config["APP_ENV"],
        "DATABASE_URL": app.config["DATABASE_URL"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "INSTANCE_PATH": app.instance_path,
    }
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=README.parent,
    )
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    token, statement, run, connection, runs, *failures = answers
    assert token["token_type"] == "Bearer"
    assert (statement["period_end"], statement["total_assets"]) == ("2025-12-31", "1000000.00")
    assert (run["status"], run["model"], run["zone"]) == ("success", "Altman Z″", "safe")
    assert run["total_score"] == 87.48
    assert connection["guest_name"] == "Alder Foods"
    assert connection["parent_organization_name"] == "Helios Holdings"
    assert connection["total_score"] == run["total_score"]  # the score seen by the host
    assert runs == {"items": [run], "total_items": 1}  # the host reads the run behind it
    assert [f["detail"][0]["code"] for f in failures] == [
        "not_authenticated",
        "invalid_token",
        "validation_error",
        "scenario_not_allowed",
        "requester_forbidden",
        "guest_connection_not_found",
        "oauth_invalid_client_credentials",
    ]
