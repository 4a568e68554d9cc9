"""Limits on what a request may contain: body size, JSON nesting depth, and no NUL characters."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import RequestEntityTooLarge

from app.errors import ValidationFailed

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


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


def refuse_nul_characters() -> None:
    """Refuse NUL in the path, query or form: never valid text, and PostgreSQL cannot hold it."""
    # JSON bodies are checked field by field by the schemas (app.schemas.refuse_nul).
    sources = [("path", (request.view_args or {}).items()), ("query", request.args.items(True))]
    if request.mimetype in FORM_TYPES:
        sources.append(("body", request.form.items(True)))
    problems = [
        {
            "loc": [source, name],
            "msg": "Value error, text must not contain the NUL character.",
            "type": "validation",
            "code": "validation_error",
        }
        for source, items in sources
        for name, value in items
        if isinstance(value, str) and "\x00" in value
    ]
    if problems:
        raise ValidationFailed(problems)


def init_app(app: Flask) -> None:
    app.json = JsonProvider(app)
    app.before_request(refuse_oversized_body)
    app.before_request(refuse_nul_characters)
