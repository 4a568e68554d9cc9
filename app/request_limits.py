"""Limits on what a request may make us do: body size, and JSON nesting depth."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import RequestEntityTooLarge


class JsonProvider(DefaultJSONProvider):
    """Flask's JSON, except that absurdly nested input is invalid JSON rather than a crash."""

    sort_keys = False  # keep the contract's field order

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("The JSON is nested too deeply.") from None


def refuse_oversized_body() -> None:
    # Flask enforces the limit only when a view reads the body; checking the declared length
    # first gives every endpoint the same 413, before any work is done for the request.
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if limit is not None and (request.content_length or 0) > limit:
        raise RequestEntityTooLarge()


def init_app(app: Flask) -> None:
    app.json = JsonProvider(app)
    app.before_request(refuse_oversized_body)
