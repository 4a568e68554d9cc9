"""Rate limits on the endpoints that check secrets: token issuance and sign-in.

Each limit is a setting (TOKEN_RATE_LIMIT, SIGNIN_RATE_LIMIT, in Flask-Limiter's notation such as
"30 per minute"), counted per client IP in RATELIMIT_STORAGE_URI: memory by default, Redis
(redis://host:6379/0) when several app servers must share the counts. Apply one to a view by
decorating it, below its route decorator:

    @bp.post("/oauth2/token")
    @token_rate_limit
    def token(): ...
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from flask import current_app

from app.extensions import limiter


def _setting(name: str) -> Callable[[], str]:
    # Read at request time, so each app (and each test) uses its own configured limit.
    return lambda: current_app.config[name]


token_rate_limit = limiter.limit(_setting("TOKEN_RATE_LIMIT"))
# Each view it decorates counts on its own: starting sign-in, and coming back from the provider.
signin_rate_limit = limiter.limit(_setting("SIGNIN_RATE_LIMIT"))


def retry_after_seconds() -> int:
    """Return how many seconds until the limit this request broke lets requests through again."""
    breached = limiter.current_limit
    if breached is None:
        return 60
    reset_at, _remaining = breached.window
    return max(1, math.ceil(reset_at - time.time()))
