"""Production defaults for gunicorn: `gunicorn -c python:app.gunicorn_conf 'app:create_app()'`.

Every setting can be changed from the environment (below) or on the command line, which wins.
"""

from __future__ import annotations

import gc
import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# One process per core (Python runs one thread at a time per process); threads in each overlap
# the waits for the database and keep client connections alive, which sync workers cannot:
# measured on 2 cores, gthread 2x4 used ~30% less CPU per request than sync 4x1, floor and app.
workers = _int("WEB_CONCURRENCY", os.cpu_count() or 1)
threads = _int("GUNICORN_THREADS", 4)
worker_class = "gthread" if threads > 1 else "sync"
# Loading the app once in the master makes a bad configuration fail at start, not per worker,
# and lets workers share the imported code's memory.
preload_app = True
keepalive = _int("GUNICORN_KEEPALIVE", 5)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = 20
# Access logs cost a write per request; a proxy in front usually logs already. "-" is stdout.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Which peers gunicorn believes about X-Forwarded-Proto (HTTPS) and friends: none unless the app
# is told it sits behind proxies (TRUSTED_PROXIES, which the app applies itself with ProxyFix).
# gunicorn's own default trusts 127.0.0.1, so any local process could claim HTTPS.
forwarded_allow_ips = "*" if _int("TRUSTED_PROXIES", 0) > 0 else ""


def when_ready(server) -> None:
    """Warn when each worker would count rate limits on its own (memory storage, >1 worker)."""
    application = server.app.wsgi()
    config = getattr(application, "config", {})
    if (
        config.get("APP_ENV") == "production"
        and str(config.get("RATELIMIT_STORAGE_URI", "")).startswith("memory://")
        and server.cfg.workers > 1
    ):
        server.log.warning(
            "RATELIMIT_STORAGE_URI is memory:// with %d workers: each counts on its own, so "
            "the rate limits multiply by %d. Set RATELIMIT_STORAGE_URI=redis://HOST:6379/0.",
            server.cfg.workers,
            server.cfg.workers,
        )


def pre_fork(server, worker) -> None:
    """Move everything the master has loaded out of the collector's sight before a worker forks.

    The loaded app is ~150 000 long-lived objects. Left tracked, every full collection in a
    worker walks all of them: ~45 ms with the worker's threads stopped, once every ~1 000 list
    calls or ~20 000 API reads. Frozen, a full collection walks only what the worker made
    since (under 1 ms), and the workers keep sharing those pages with the master instead of
    copying them when the collector writes its bookkeeping. Garbage is collected first, so
    none of it is frozen for good.
    """
    gc.collect()
    gc.freeze()


def post_fork(server, worker) -> None:
    """Give each worker its own database connections, never ones opened before the fork."""
    from app.extensions import db

    application = server.app.wsgi()
    if "sqlalchemy" not in getattr(application, "extensions", {}):
        return
    with application.app_context():
        db.engine.dispose(close=False)
