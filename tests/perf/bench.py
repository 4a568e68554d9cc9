"""Load benchmark: the app under gunicorn against a bare Flask "floor", driven by wrk.

Run it with `scripts/bench` (or `.venv/bin/python tests/perf/bench.py`). For each database
(SQLite always; PostgreSQL when BENCH_DATABASE_URL is set — that database is emptied first) it:
migrates, gives one host BENCH_GUESTS guests with `flask seed-scale`, starts the app under
gunicorn with production settings and the floor with the same gunicorn settings, and drives
each target with wrk at concurrency 1, 8 and 32. It writes tests/perf/results/latest.md and
latest.png and prints the table. SQL queries per request are counted separately, in process,
with the Flask test client against the same seeded database, so production code stays as it is.

Environment: BENCH_DATABASE_URL, BENCH_DURATION (seconds per point, default 6), BENCH_GUESTS
(default 100000), BENCH_PORT (first of two ports, default 5400), and gunicorn's own
WEB_CONCURRENCY / GUNICORN_THREADS (see app/gunicorn_conf.py).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PERF = ROOT / "tests" / "perf"
RESULTS = PERF / "results"
BIN = Path(sys.executable).parent
CONCURRENCY = (1, 8, 32)
SEARCH_TEXT = "maple"  # one guest name in 41 contains it: ~2 400 matches at 100 000 guests
SECRET_KEY = "benchmark-secret-key-" + "0123456789abcdef" * 3
HOST_NAME = "Bench Host"
OWNER_EMAIL = "bench.owner@host.example"  # signed in for the HTML page


@dataclass
class Target:
    key: str
    label: str
    path: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    queries: int | None = None  # SQL statements per request, steady state
    skipped: str = ""  # why it is not measured


@dataclass
class Point:
    database: str
    target: str
    label: str
    concurrency: int
    rps: float
    ratio: float
    p50_ms: float
    p99_ms: float
    queries: int | None
    errors: int
    cpu_us: float = 0.0  # CPU time of the gunicorn processes per request (not the database's)
    # CPU time of the PostgreSQL server's processes per request, when it runs on this machine
    # and shares its cores with the app (SQLite's is in cpu_us: it runs in the app's process).
    database_cpu_us: float | None = None
    split: str = ""  # wrk's connections per gunicorn worker, e.g. "3+5"


# A point whose connections (nearly) all landed on one worker measures the kernel's accept race,
# not the server: it is run again (and said so in the notes), at most this many times.
RETRIES_WHEN_LOPSIDED = 8

# Targets on this 2-core machine, checked at concurrency 8 (issue 13), by database where they
# differ.
TARGETS = {
    "detail": {"ratio": 0.5, "p99_ms": 12.0},
    "list": {"p99_ms": {"PostgreSQL": 50.0, "SQLite": 100.0}},
    "page": {"ratio": 0.25},
    "token": {"ratio": 0.3},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_DURATION", 6)))
    parser.add_argument("--guests", type=int, default=int(os.environ.get("BENCH_GUESTS", 100_000)))
    parser.add_argument("--only", nargs="*", help="target keys to run (floor always runs)")
    parser.add_argument(
        "--concurrency", type=int, nargs="*", default=list(CONCURRENCY), help="wrk connections"
    )
    parser.add_argument(
        "--databases", nargs="*", default=["sqlite", "postgresql"], help="sqlite, postgresql"
    )
    parser.add_argument("--no-write", action="store_true", help="print only; keep latest.md")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is missing: install it with  apt-get install -y wrk", file=sys.stderr)
        return 2
    databases = [("SQLite", None)] if "sqlite" in args.databases else []
    if os.environ.get("BENCH_DATABASE_URL") and "postgresql" in args.databases:
        databases.append(("PostgreSQL", os.environ["BENCH_DATABASE_URL"]))
    port = int(os.environ.get("BENCH_PORT", 5400))
    points: list[Point] = []
    notes: list[str] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gc-bench-") as tmp:
        for name, url in databases:
            workdir = Path(tmp) / name.lower()
            workdir.mkdir()
            url = url or f"sqlite:///{workdir / 'bench.db'}"
            points += bench_database(name, url, workdir, port, args, notes)
    elapsed = time.monotonic() - started
    table = markdown(points, notes, args, elapsed)
    print(table)
    if not args.no_write:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "latest.md").write_text(table)
        (RESULTS / "latest.json").write_text(json.dumps([asdict(p) for p in points], indent=1))
        chart(points, RESULTS / "latest.png")
        print(f"wrote {RESULTS / 'latest.md'} and latest.png")
    return 0


# -- one database -----------------------------------------------------------------------------


def bench_database(
    name: str, url: str, workdir: Path, port: int, args: argparse.Namespace, notes: list[str]
) -> list[Point]:
    say(f"== {name}: preparing the database")
    env = server_env(url, workdir)
    empty_database(url)
    flask(env, "db", "upgrade")
    host_id = flask(env, "orgs", "create", "--name", HOST_NAME, "--email", "bench@host.example")
    say(f"   seed-scale: {args.guests} guests for host {host_id}")
    seeded = time.monotonic()
    flask(env, "seed-scale", "--host", host_id, "--count", str(args.guests))
    say(f"   seeded in {time.monotonic() - seeded:.0f} s")
    output = flask(env, "api-clients", "create", "--org", host_id, "--name", "Benchmark")
    credentials = json.loads(output.splitlines()[-1])
    flask(env, "members", "add", "--org", host_id, "--email", OWNER_EMAIL, "--role", "owner")
    targets, body_size = inspect_in_process(env, uuid.UUID(host_id), credentials)
    if args.only:
        targets = [t for t in targets if t.key in args.only]
    for target in targets:
        if target.skipped:
            note = f"{name}: {target.label} skipped: {target.skipped}"
            say("   " + note)
            notes.append(note)
    live = [t for t in targets if not t.skipped]
    floor = Target("floor", "floor (bare Flask, constant JSON)", "/floor", queries=0)
    points: list[Point] = []
    with gunicorn(env, "app:create_app()", port, workdir / "app.log") as app_server:
        with gunicorn(
            env | {"FLOOR_BODY_BYTES": str(body_size)},
            "floor:app",
            port + 1,
            workdir / "floor.log",
            pythonpath=PERF,
        ) as floor_server:
            servers = {"floor": port + 1}
            pids = {"floor": floor_server.pid}
            for target in list(live):
                status = probe(target, port)
                if status != 200:
                    note = f"{name}: {target.label} skipped: the server answered {status}"
                    say("   " + note)
                    notes.append(note)
                    live.remove(target)
            for target in [floor, *live]:
                url_port = servers.get(target.key, port)
                wrk(target, url_port, 8, 2)  # warm up: caches, connections, the OS
            for concurrency in args.concurrency:
                floor_rps = 0.0
                for target in [floor, *live]:
                    server_pid = pids.get(target.key, app_server.pid)
                    for attempt in range(1, RETRIES_WHEN_LOPSIDED + 2):
                        cpu_before = cpu_seconds(server_pid)
                        database_before = database_cpu_seconds(url)
                        result = wrk(
                            target, servers.get(target.key, port), concurrency, args.duration
                        )
                        cpu = cpu_seconds(server_pid) - cpu_before
                        database_after = database_cpu_seconds(url)
                        drain(server_pid)  # requests in flight must not slow the next target
                        if not lopsided(result["split"], concurrency):
                            break
                        note = (
                            f"{name}: {target.label}, c={concurrency}: connections "
                            f"{result['split']} over the workers (try {attempt})"
                        )
                        say("   " + note)
                        notes.append(note)
                    rps = result["requests"] / (result["duration_us"] / 1e6)
                    if target.key == "floor":
                        floor_rps = rps
                    point = Point(
                        database=name,
                        target=target.key,
                        label=target.label,
                        concurrency=concurrency,
                        rps=rps,
                        ratio=rps / floor_rps if floor_rps else 0.0,
                        p50_ms=result["p50_us"] / 1000,
                        p99_ms=result["p99_us"] / 1000,
                        queries=target.queries,
                        cpu_us=cpu / max(result["requests"], 1) * 1e6,
                        database_cpu_us=(
                            None
                            if database_before is None or database_after is None
                            else (database_after - database_before)
                            / max(result["requests"], 1)
                            * 1e6
                        ),
                        split=result["split"],
                        errors=sum(
                            result[k]
                            for k in (
                                "connect_errors",
                                "read_errors",
                                "write_errors",
                                "status_errors",
                                "timeouts",
                            )
                        ),
                    )
                    say(
                        f"   c={concurrency:<3} {target.key:<7} {rps:8.0f} req/s"
                        f"  x{point.ratio:4.2f}  p50 {point.p50_ms:6.2f} ms"
                        f"  p99 {point.p99_ms:6.2f} ms  cpu {point.cpu_us:5.0f} us/req"
                        f"{database_cpu_text(point, '  database cpu {:5.0f} us/req')}"
                        f"  errors {point.errors}  conn. per worker {point.split}"
                    )
                    points.append(point)
    return points


def server_env(url: str, workdir: Path) -> dict[str, str]:
    """Return the environment of a production deployment on this database."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FLASK_", "DATABASE_", "SECRET_", "OIDC_", "APP_", "TOKEN_"))
    }
    instance = workdir / "instance"
    instance.mkdir(exist_ok=True)
    return env | {
        "APP_ENV": "production",
        "SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": url,
        # Production may come to require an OIDC issuer; the API benchmark never reaches it.
        "OIDC_ISSUER": "https://issuer.invalid",
        # Production builds every link it hands out on PUBLIC_URL, which it therefore requires.
        "PUBLIC_URL": "https://connections.example.com",
        # The limiter stays on (its cost is measured) but must not refuse a load test from one
        # IP. Per second: its moving window then holds ~1 s of hits, as a real limit holds few.
        "TOKEN_RATE_LIMIT": "1000000 per second",
        "INSTANCE_PATH": str(instance),
        "FLASK_APP": "app",
    }


def empty_database(url: str) -> None:
    """Empty the PostgreSQL database of url, creating it first on a machine that lacks it."""
    if not url.startswith("postgresql"):
        return
    from sqlalchemy import create_engine, make_url, text

    name = make_url(url).database
    server = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        )
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def flask(env: dict[str, str], *arguments: str) -> str:
    """Run a flask command of the app and return its standard output, stripped."""
    done = subprocess.run(
        [str(BIN / "flask"), *arguments],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"flask {' '.join(arguments)} failed:\n{done.stderr}")
    return done.stdout.strip()


# -- in process: the fixture, and SQL statements per request -----------------------------------


@contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def inspect_in_process(
    env: dict[str, str], host_id: uuid.UUID, credentials: dict
) -> tuple[list[Target], int]:
    """Build the targets (token, ids, session), count their queries; return them and body size."""
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import event

    from app import create_app
    from app.extensions import db
    from app.models import GuestConnection

    with environment(env):
        app = create_app()
    client = app.test_client()
    with app.app_context():
        # Any guest: the lookup is by the (host, guest) unique index, whichever it is.
        guest_id = db.session.scalar(
            db.select(GuestConnection.guest_organization_id)
            .where(GuestConnection.host_organization_id == host_id)
            .limit(1)
        )
        engine = db.engine
    response = client.post("/oauth2/token", json=credentials)
    if response.status_code != 200:
        raise SystemExit(f"POST /oauth2/token answered {response.status_code}: {response.text}")
    token = response.json["access_token"]
    api_headers = {
        "Authorization": f"Bearer {token}",
        "Requester-Organization-ID": str(host_id),
        "Target-Organization-ID": str(host_id),
    }
    targets = [
        Target(
            "detail",
            "GET /v1/guest-connections/{id}",
            f"/v1/guest-connections/{guest_id}",
            headers=api_headers,
        ),
        Target(
            "page",
            "HTML detail page, signed in",
            f"/orgs/{host_id}/guest-connections/{guest_id}",
        ),
        Target(
            "token",
            "POST /oauth2/token",
            "/oauth2/token",
            method="POST",
            body=json.dumps(credentials),
        ),
        Target(
            "list",
            f"GET /v1/guest-connections (limit 50, search '{SEARCH_TEXT}', total_score desc)",
            "/v1/guest-connections?limit=50&search_text="
            f"{SEARCH_TEXT}&order_by=total_score&order_dir=desc",
            headers=api_headers,
        ),
    ]
    cookie, why_not = session_cookie(app, host_id)
    if cookie:
        next(t for t in targets if t.key == "page").headers["Cookie"] = (
            cookie  # for wrk; the test client keeps its own jar
        )
        for pair in cookie.split("; "):
            client.set_cookie(*pair.split("=", 1))
    body_size = 0
    for target in targets:
        if target.key == "page" and not cookie:
            target.skipped = why_not
            continue
        statements: list[str] = []

        def count(*_args, statements=statements) -> None:
            statements.append("")

        def call(target=target):
            return client.open(
                target.path,
                method=target.method,
                headers={k: v for k, v in target.headers.items() if k != "Cookie"},
                data=target.body or None,
                content_type="application/json" if target.body else None,
            )

        response = call()  # the first call of a process loads caches; count the steady state
        if response.status_code in (404, 405) and target.key != "detail":
            target.skipped = f"the route answers {response.status_code} (not on this branch yet)"
            continue
        if response.status_code != 200:
            raise SystemExit(f"{target.label} answered {response.status_code}: {response.text}")
        event.listen(engine, "before_cursor_execute", count)
        try:
            call()
        finally:
            event.remove(engine, "before_cursor_execute", count)
        target.queries = len(statements)
        if target.key == "detail":
            body_size = len(response.data)
    with app.app_context():
        db.engine.dispose()
    return targets, body_size


def session_cookie(app, host_id: uuid.UUID) -> tuple[str | None, str]:
    """Return a signed-in session cookie for an owner of the host, made as sign-in would."""
    if not hasattr(app, "login_manager"):
        return None, "no sign-in on this branch yet (Flask-Login is not set up)"
    import flask
    from flask_login import login_user

    from app.extensions import db
    from app.models import User

    try:
        with app.app_context():
            user_id = str(db.session.scalar(db.select(User.id).where(User.email == OWNER_EMAIL)))
        # The same client address and no User-Agent, as wrk sends: session protection holds.
        with app.test_request_context("/", environ_base={"REMOTE_ADDR": "127.0.0.1"}):
            from app.web import auth

            # What sign-in records: when, and the user's session epoch (a new user's is 0).
            flask.session[auth.SIGNED_IN_AT_KEY] = int(time.time())
            flask.session[auth.EPOCH_KEY] = 0
            user = app.login_manager._user_callback(user_id)  # the app's own user loader
            login_user(user)
            response = app.make_response("")
            # The store writes the session object itself, not the request's proxy to it.
            session = flask.session._get_current_object()  # type: ignore[attr-defined]
            app.session_interface.save_session(app, session, response)
    except Exception as error:  # a sign-in this harness does not know: say so, skip the page
        return None, f"could not sign in a user ({type(error).__name__}: {error})"
    cookies = [c.split(";", 1)[0] for c in response.headers.getlist("Set-Cookie")]
    return "; ".join(cookies), ""


# -- servers and load -------------------------------------------------------------------------


@contextmanager
def gunicorn(
    env: dict[str, str], app_spec: str, port: int, log: Path, pythonpath: Path | None = None
) -> Iterator[subprocess.Popen]:
    command = [str(BIN / "gunicorn"), "-c", "python:app.gunicorn_conf", "-b", f"127.0.0.1:{port}"]
    if pythonpath:
        command += ["--pythonpath", str(pythonpath)]
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [*command, app_spec], env=env, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT
        )
        try:
            wait_until_up(port, process, log)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def drain(master_pid: int, quiet: float = 0.05, limit: float = 60.0) -> None:
    """Wait until the server has finished the requests wrk left in flight (its CPU goes quiet)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = cpu_seconds(master_pid)
        time.sleep(0.5)
        if cpu_seconds(master_pid) - before < quiet:
            return


def cpu_seconds(master_pid: int) -> float:
    """Return the CPU time used so far by a gunicorn master and its workers."""
    pids = [master_pid]
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    if children.exists():
        pids += [int(pid) for pid in children.read_text().split()]
    return processes_cpu_seconds(pids)


def database_cpu_seconds(url: str) -> float | None:
    """Return the CPU time used so far by the PostgreSQL server's processes on this machine, or
    None when the database is not such a server (SQLite; PostgreSQL on another host).

    On the benchmark's machine the server takes its cores from the app and wrk: a request's
    statements cost CPU there too, which the ratio to the floor (no database) pays for.
    """
    host = urllib.parse.urlsplit(url).hostname
    if not url.startswith("postgresql") or host not in (None, "127.0.0.1", "localhost", "::1"):
        return None
    pids = []
    for process in Path("/proc").iterdir():
        try:
            if process.name.isdigit() and (process / "comm").read_text().strip() == "postgres":
                pids.append(int(process.name))
        except OSError:
            continue  # a process that just exited
    return processes_cpu_seconds(pids) if pids else None


def processes_cpu_seconds(pids: list[int]) -> float:
    """Return the CPU time (user and system) used so far by these processes."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a process that just exited
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def database_cpu_text(point: Point, template: str) -> str:
    """Return the point's database CPU µs/req in template, or "" when not measured."""
    return "" if point.database_cpu_us is None else template.format(point.database_cpu_us)


def wait_until_up(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn on port {port} exited:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)  # noqa: S310
            return
        except urllib.error.HTTPError:
            return  # it answers (the floor has no /healthz)
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn on port {port} did not answer within 60 s")


def probe(target: Target, port: int) -> int:
    """Return the live server's status for one request of the target (redirects not followed)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = dict(target.headers)
        if target.body:
            headers["Content-Type"] = "application/json"
        connection.request(target.method, target.path, body=target.body or None, headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


def wrk(target: Target, port: int, concurrency: int, duration: int) -> dict:
    """Drive one target with wrk and return the summary that wrk.lua prints."""
    command = [
        "wrk",
        "-t1",  # one load thread: on 2 cores, every cycle wrk takes is one the server loses
        f"-c{concurrency}",
        f"-d{duration}s",
        "--timeout",
        "5s",
        "-s",
        str(PERF / "wrk.lua"),
    ]
    for name, value in target.headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(f"http://127.0.0.1:{port}{target.path}")
    env = os.environ | {"WRK_METHOD": target.method, "WRK_BODY": target.body}
    running = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    time.sleep(min(1.0, duration / 3))  # the connections are open by now
    split = connections_per_worker(port)
    stdout, stderr = running.communicate()
    for line in stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line.removeprefix("BENCH_JSON ")) | {"split": split}
    raise SystemExit(f"wrk gave no summary:\n{stdout}\n{stderr}")


def lopsided(split: str, concurrency: int) -> bool:
    """Tell whether a point's connections sat (nearly) all on one of several workers.

    Nearly: some worker served fewer than half its fair share, e.g. 1+7 of 8 on two workers,
    where one worker's threads queue behind one GIL while the other idles, as with 0+8.
    """
    workers = gunicorn_workers()
    if workers < 2 or concurrency < workers:
        return False
    counts = [int(count) for count in split.split("+") if count.isdigit()]
    if not counts:
        return False  # not known (no `ss`)
    served = counts + [0] * (workers - len(counts))  # a worker with none is not listed
    return min(served) < concurrency / workers / 2


def gunicorn_workers() -> int:
    """Return how many workers app/gunicorn_conf.py starts here."""
    return int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count() or 1)


def connections_per_worker(port: int) -> str:
    """Return how the server's open connections are spread over its processes, e.g. "3+5".

    The kernel hands a burst of new keep-alive connections to whichever worker wakes first;
    with all of them on one worker, that worker's threads share one GIL while the other
    worker idles, and throughput halves (NOTES.md). Reported with each point, not corrected.
    """
    done = subprocess.run(
        ["ss", "-tnpH", "state", "established", "sport", f"= :{port}"],
        capture_output=True,
        text=True,
        check=False,
    )
    pids = re.findall(r"pid=(\d+)", done.stdout)
    return "+".join(str(n) for n in sorted(Counter(pids).values())) if pids else ""


# -- report -----------------------------------------------------------------------------------


def markdown(points: list[Point], notes: list[str], args, elapsed: float) -> str:
    workers = gunicorn_workers()
    threads = os.environ.get("GUNICORN_THREADS") or "4"
    guests = f"{args.guests:,}".replace(",", " ")
    lines = [
        "# Benchmark results",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · commit {git_commit()} · {cpu_name()}, "
        f"{os.cpu_count()} cores · gunicorn {workers} workers × {threads} threads "
        f"(app/gunicorn_conf.py) · wrk 1 thread, {args.duration} s per point · "
        f"{guests} guests on one host · run took {elapsed / 60:.1f} min",
        "",
        f"Load average of the machine (shared with other work) at the end: {load_average()}.",
        "",
        "× floor: requests/s divided by the floor's at the same concurrency. "
        "CPU µs/req: CPU time of the gunicorn processes per request (the database server's "
        "is not included); on a shared machine it varies less than requests/s. "
        "DB CPU µs/req: CPU time of the PostgreSQL server's processes per request, on the same "
        "cores (SQLite runs inside the app's processes: its share is in CPU µs/req). "
        "SQL/req: statements per request in steady state (counted in process). "
        "conn. per worker: how the kernel spread wrk's keep-alive connections over the gunicorn "
        "workers; with all of them on one worker, throughput about halves (NOTES.md).",
        "",
    ]
    for database in dict.fromkeys(p.database for p in points):
        lines += [
            f"## {database}",
            "",
            "| target | conc. | req/s | × floor | p50 ms | p99 ms | CPU µs/req | DB CPU µs/req"
            " | SQL/req | errors | conn. per worker |",
            "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        ]
        for point in (p for p in points if p.database == database):
            lines.append(
                f"| {point.label} | {point.concurrency} | {point.rps:,.0f} | {point.ratio:.2f} "
                f"| {point.p50_ms:.2f} | {point.p99_ms:.2f} | {point.cpu_us:,.0f} "
                f"| {database_cpu_text(point, '{:,.0f}') or '—'} "
                f"| {'' if point.queries is None else point.queries} | {point.errors} "
                f"| {point.split} |"
            )
        lines.append("")
    lines += ["## Targets (concurrency 8)", ""]
    lines += target_lines(points)
    if notes:
        lines += ["", "## Notes", "", *[f"- {note}" for note in notes]]
    return "\n".join(lines) + "\n"


def target_lines(points: list[Point]) -> list[str]:
    lines = []
    for point in points:
        goal = TARGETS.get(point.target)
        if goal is None or point.concurrency != 8:
            continue
        checks = []
        if "ratio" in goal:
            checks.append(
                (f"× floor {point.ratio:.2f} ≥ {goal['ratio']}", point.ratio >= goal["ratio"])
            )
        if "p99_ms" in goal:
            p99 = goal["p99_ms"]
            p99 = p99[point.database] if isinstance(p99, dict) else p99
            checks.append((f"p99 {point.p99_ms:.1f} ms ≤ {p99:.0f}", point.p99_ms <= p99))
        verdict = "met" if all(ok for _, ok in checks) else "**missed**"
        detail = "; ".join(f"{text} {'✓' if ok else '✗'}" for text, ok in checks)
        lines.append(f"- {point.database}, {point.label}: {verdict} ({detail})")
    return lines or ["- no target was measured"]


def chart(points: list[Point], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        say("   matplotlib is missing (pip install -e '.[bench]'): no chart")
        return
    databases = list(dict.fromkeys(p.database for p in points))
    figure, axes = plt.subplots(2, len(databases), figsize=(6.5 * len(databases), 8), squeeze=False)
    for column, database in enumerate(databases):
        mine = [p for p in points if p.database == database]
        keys = list(dict.fromkeys(p.target for p in mine))
        levels = list(dict.fromkeys(p.concurrency for p in mine))
        width = 0.8 / len(levels)
        for row, (attribute, title) in enumerate(
            [
                ("rps", "requests/s (higher is better)"),
                ("p99_ms", "p99 latency, ms (lower is better)"),
            ]
        ):
            axis = axes[row][column]
            for index, level in enumerate(levels):
                values = [
                    next(
                        (
                            getattr(p, attribute)
                            for p in mine
                            if p.target == k and p.concurrency == level
                        ),
                        0,
                    )
                    for k in keys
                ]
                positions = [i + (index - (len(levels) - 1) / 2) * width for i in range(len(keys))]
                axis.bar(positions, values, width, label=f"concurrency {level}")
            axis.set_xticks(range(len(keys)), keys)
            axis.set_title(f"{database}: {title}")
            if attribute == "p99_ms":
                axis.set_yscale("log")
            axis.grid(axis="y", alpha=0.3)
            axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def git_commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
