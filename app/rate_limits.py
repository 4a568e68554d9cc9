"""Rate limits on the views that check secrets (token issuance, sign-in), per client IP.

Each limit is a setting in the `limits` library's notation ("30 per minute"), read at request
time, and counted per view and client IP in RATELIMIT_STORAGE_URI: memory by default, Redis
(redis://host:6379/0) when several app servers must share the counts. The window slides, so
no double burst across a window's edge. Behind a proxy, set TRUSTED_PROXIES so that the IP is
the client's.

Built on `limits` directly, the engine Flask-Limiter runs on: Flask-Limiter's request
machinery (default, meta and exempt limits, headers, its request context), none of which we
use, was a fifth of a token request.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, request
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)

# After the shared storage fails, count in this process's memory for this long before trying
# it again: neither refuse every request nor answer 500 while Redis is away.
STORAGE_RETRY_SECONDS = 30.0


class RateLimited(Exception):
    """A client went over a limit; retry_after says in how many seconds it may try again."""

    def __init__(self, limit: RateLimitItem, retry_after: int) -> None:
        super().__init__(f"rate limit {limit} exceeded")
        self.limit = limit
        self.retry_after = retry_after


@dataclass
class _Counters:
    """One app's counters: the configured storage, and memory to fall back on."""

    shared: MovingWindowRateLimiter
    fallback: MovingWindowRateLimiter = field(
        default_factory=lambda: MovingWindowRateLimiter(MemoryStorage())
    )
    shared_failed_at: float = float("-inf")

    def counter(self) -> MovingWindowRateLimiter:
        if time.monotonic() - self.shared_failed_at < STORAGE_RETRY_SECONDS:
            return self.fallback
        return self.shared


class RateLimits:
    """The app's rate limits: `limit("SETTING")` decorates a view."""

    def init_app(self, app: Flask) -> None:
        storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
        app.extensions["rate_limits"] = _Counters(MovingWindowRateLimiter(storage))

    def limit(self, setting: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Return a decorator that counts each call of the view against the setting's limit."""

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(view)
            def limited(*args: Any, **kwargs: Any) -> Any:
                self.hit(setting, view.__qualname__)
                return view(*args, **kwargs)

            return limited

        return decorator

    def hit(self, setting: str, scope: str) -> None:
        """Count one call from this client in scope; raise RateLimited if it is one too many."""
        limit = _parsed(current_app.config[setting])
        keys = (current_app.config["RATELIMIT_KEY_PREFIX"], scope, request.remote_addr or "")
        counters: _Counters = current_app.extensions["rate_limits"]
        counter = counters.counter()
        try:
            allowed = counter.hit(limit, *keys)
        except _storage_errors(counter.storage) as error:
            log.warning("rate limit storage unreachable, counting in memory: %s", error)
            counters.shared_failed_at = time.monotonic()
            counter = counters.fallback
            allowed = counter.hit(limit, *keys)
        if not allowed:
            reset_at, _remaining = counter.get_window_stats(limit, *keys)
            raise RateLimited(limit, retry_after=max(1, math.ceil(reset_at - time.time())))

    def reset(self, app: Flask) -> None:
        """Forget every count (tests)."""
        counters: _Counters = app.extensions["rate_limits"]
        counters.shared.storage.reset()
        counters.fallback.storage.reset()


@functools.lru_cache(maxsize=32)
def _parsed(setting: str) -> RateLimitItem:
    return parse(setting)


def _storage_errors(storage: Storage) -> tuple[type[Exception], ...]:
    errors = storage.base_exceptions
    return errors if isinstance(errors, tuple) else (errors,)
