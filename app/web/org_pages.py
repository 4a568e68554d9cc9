"""What every page of an organization shares: who may open it, who acts, answering its forms.

`@org_page(minimum_role)` does for a page what `api_endpoint` does for an API operation: the
person must be signed in, and the one access rule must let them act for the organization in
the URL (Self scenario: it is both requester and target) with at least that role. The view
then gets the access context first, and the URL's values as keywords.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any

from flask import after_this_request, current_app, flash, g, redirect, request, session
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.access import AccessContext, RequesterForbidden, Scenario, authorize, role_at_least
from app.database import read_without_transaction
from app.errors import AppError, Forbidden
from app.schemas import Role
from app.services.audit import Actor
from app.web.auth import SignedInUser, safe_next

LAST_ORG_KEY = "last_org_id"
# The last organization used, kept past sign-out so the next sign-in lands there (an id, no secret).
LAST_ORG_COOKIE = "last_org"
LAST_ORG_MAX_AGE = 365 * 86400
SHOWN_ONCE_KEY = "shown_once"  # a secret on its way from a form's redirect to the page after it
PAGE_SIZES = (10, 25, 50, 100)
FIXABLE = (409, 422)  # refusals shown as a message on the page, not as an error page


class NotAMember(Forbidden):
    code = "not_a_member"
    message = "You are not a member of this organization, so you can't open its pages."


def signed_in_user() -> SignedInUser:
    return current_user  # type: ignore[return-value]


def authorize_page(org_id: uuid.UUID, minimum_role: Role = Role.MEMBER) -> AccessContext:
    """Apply the one access rule for a page of this organization (Self scenario)."""
    try:
        access = authorize(
            signed_in_user().principal, org_id, org_id, {Scenario.SELF}, minimum_role=minimum_role
        )
    except RequesterForbidden:
        raise NotAMember() from None
    if session.get(LAST_ORG_KEY) != str(org_id):
        session[LAST_ORG_KEY] = str(org_id)  # only on a change: each write re-sends the cookie
        after_this_request(functools.partial(_remember_last_org, org_id))
    return access


def _remember_last_org(org_id: uuid.UUID, response: Response) -> Response:
    response.set_cookie(
        LAST_ORG_COOKIE,
        str(org_id),
        max_age=LAST_ORG_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )
    return response


def org_page(
    minimum_role: Role = Role.MEMBER, *, read_only: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a page of the organization in the URL: sign-in, access rule, lowest role.

    read_only pages (short reads, no writes) run without a transaction on PostgreSQL; not a
    streamed export, whose server-side cursor needs one.
    """

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @login_required
        def signed_in(org_id: uuid.UUID, **values: Any) -> Any:
            access = authorize_page(org_id, minimum_role)
            return view(access, org_id=org_id, **values)

        @functools.wraps(view)
        def page(org_id: uuid.UUID, **values: Any) -> Any:
            # Before the signed-in user is loaded: that is this request's first query.
            if read_only and request.method in ("GET", "HEAD"):
                read_without_transaction()
            return signed_in(org_id, **values)

        return page

    return decorator


def actor() -> Actor:
    """Return the signed-in person as the actor of a write."""
    return Actor.of(signed_in_user().principal)


def fixable_refusal(error: AppError) -> str:
    """Return the message of a refusal the person can fix (a conflict, a bad value); re-raise
    anything else, for the error page."""
    if error.status not in FIXABLE:
        raise error
    return error.message


def flash_refusal(error: AppError) -> None:
    flash(fixable_refusal(error), "error")


def redirect_back(default: str) -> Response:
    """Redirect to the form's `next` (a path on this site), else to default."""
    return redirect(safe_next(request.form.get("next")) or default)


def show_once(org_id: uuid.UUID, kind: str, value: dict[str, Any]) -> None:
    """Keep a one-time value (a secret, a link) for the page the redirect after a form leads to."""
    session[SHOWN_ONCE_KEY] = {"org_id": str(org_id), "kind": kind, "value": value}


def take_shown_once(org_id: uuid.UUID, kind: str) -> dict[str, Any] | None:
    """Return the one-time value kept for this organization's page of this kind, and forget it."""
    kept = session.get(SHOWN_ONCE_KEY)
    if not kept or kept.get("org_id") != str(org_id) or kept.get("kind") != kind:
        return None
    session.pop(SHOWN_ONCE_KEY)
    return kept["value"]


def page_context() -> dict[str, Any]:
    """Give every template the organization of the page (from the URL), when there is one."""
    org_id = (request.view_args or {}).get("org_id")
    # Only a user already loaded for this request: an error page must not query the database
    # (it may be what failed).
    user = g.get("_login_user")
    current_org = None
    if isinstance(org_id, uuid.UUID) and isinstance(user, SignedInUser):
        current_org = user.access.membership(org_id)

    def may(minimum: str) -> bool:
        """Tell whether the person's role here allows what needs `minimum` (hide the rest)."""
        return current_org is not None and role_at_least(current_org.role, Role(minimum))

    return {"PAGE_SIZES": PAGE_SIZES, "current_org": current_org, "may": may}
