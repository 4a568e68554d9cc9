"""Errors the application raises on purpose, each with the contract's status, code and message.

Both faces handle them in one place (app/web/error_pages.py): paths under /v1/ and /oauth2/
get the JSON body of the contract, every other path an HTML page. Errors of one domain (a
connection not found, an invitation already accepted) are defined in their service module.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


class AppError(Exception):
    status = 500
    code = "internal_error"
    type = "server"
    message = "Something went wrong on our side. Please try again later."

    def __init__(
        self,
        message: str | None = None,
        *,
        loc: list[str | int] | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.loc = loc or []
        self.code = code or self.code
        self.headers = headers or {}

    def details(self) -> list[dict[str, Any]]:
        return [{"loc": self.loc, "msg": self.message, "type": self.type, "code": self.code}]


class NotAuthenticated(AppError):
    status = 401
    code = "not_authenticated"
    type = "authentication"
    message = "A bearer token is required: send 'Authorization: Bearer <token>'."

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(message, **kwargs)


class InvalidToken(NotAuthenticated):
    code = "invalid_token"
    message = "The bearer token is invalid or has expired; request a new one."

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        super().__init__(message, **kwargs)


class InvalidClientCredentials(AppError):
    status = 401
    code = "oauth_invalid_client_credentials"
    type = "oauth"
    message = "The client authentication failed!"
    oauth_error = "invalid_client"  # RFC 6749's name, added to the body for standard clients


class Forbidden(AppError):
    status = 403
    code = "forbidden"
    type = "authorization"
    message = "You are not allowed to do this."


class NotFound(AppError):
    status = 404
    code = "not_found"
    type = "not_found"
    message = "There is nothing at this address."


class Conflict(AppError):
    status = 409
    code = "conflict"
    type = "conflict"
    message = "The request conflicts with the current state."


class ValidationFailed(AppError):
    """One or more inputs are invalid; unlike the others it carries every problem at once."""

    status = 422
    code = "validation_error"
    type = "validation"
    message = "The request is invalid."

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors[0]["msg"] if errors else None)
        self.errors = errors

    @staticmethod
    def problem(loc: list[str | int], message: str) -> dict[str, Any]:
        """Return one entry of the contract's 422 body."""
        return {"loc": loc, "msg": message, "type": "validation", "code": "validation_error"}

    @classmethod
    def at(cls, loc: list[str | int], message: str) -> ValidationFailed:
        """Return the error for one invalid value, e.g. at(["body", "email"], "...")."""
        return cls([cls.problem(loc, message)])

    @classmethod
    def from_pydantic(cls, error: ValidationError, source: str) -> ValidationFailed:
        """Return pydantic's errors as one ValidationFailed, each located under source."""
        return cls(
            [
                # A query parameter is named as a whole, even when one repetition is wrong.
                cls.problem(
                    [source, *item["loc"][:1]] if source == "query" else [source, *item["loc"]],
                    _sentence(item["msg"]),
                )
                for item in error.errors(include_url=False)
            ]
        )

    def details(self) -> list[dict[str, Any]]:
        return self.errors


def _sentence(message: str) -> str:
    # pydantic quotes the offending input; never echo control characters back.
    message = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
    message = message[:1].upper() + message[1:]
    return message if message.endswith(".") else message + "."


class ServiceUnavailable(AppError):
    status = 503
    code = "service_unavailable"
    type = "availability"
    message = "The service is unavailable right now; please try again shortly."
