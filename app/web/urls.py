"""url_for for templates, remembering the URLs it built.

A page builds a dozen URLs (style sheet, icon, navigation, forms), the same ones on every view
of it; werkzeug builds each anew, ~10 µs apiece. A URL is a function of the route map (fixed
once the app is built), the endpoint and values, and the request's adapter: script root, host,
subdomain, scheme. All of those are the key here, so a remembered URL is the one url_for would
build. Not remembered: relative endpoints (".view" depends on the request's blueprint), the
`_anchor`/`_external`/`_method`/`_scheme` options, unhashable values, and anything at all
when the app has url_defaults functions (they may read the request).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, url_for
from flask.globals import _cv_request

# Distinct URLs kept per process; the whole memory is dropped when full (no LRU bookkeeping
# on the hot path). Each entry is a short key and string.
LIMIT = 4096
_built: dict[tuple, str] = {}


def init_app(app: Flask) -> None:
    app.jinja_env.globals["url_for"] = remembered_url_for


def remembered_url_for(endpoint: str, **values: Any) -> str:
    """Return url_for(endpoint, **values), built once per distinct request adapter and values."""
    request_context = _cv_request.get(None)
    if (
        request_context is None
        or endpoint[:1] == "."
        or request_context.app.url_default_functions
        or any(name[:1] == "_" for name in values)
    ):
        return url_for(endpoint, **values)
    adapter = request_context.url_adapter
    if adapter is None:
        return url_for(endpoint, **values)
    # The type too: 1, 1.0 and True are equal keys but different URLs.
    key = (
        adapter.script_name,
        adapter.server_name,
        adapter.subdomain,
        adapter.url_scheme,
        endpoint,
        *((name, type(value), value) for name, value in values.items()),
    )
    try:
        return _built[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable value (a list): build it every time
        return url_for(endpoint, **values)
    url = url_for(endpoint, **values)
    if len(_built) >= LIMIT:
        _built.clear()
    _built[key] = url
    return url
