"""Settings → Members: owners see their organization's people, add one, change a role, remove
one. A role change applies at the person's next request; a removal ends their sessions."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from app.access import AccessContext
from app.errors import AppError
from app.schemas import Role
from app.services import members
from app.web.org_pages import actor, flash_refusal, org_page

bp = Blueprint("members", __name__)


def _role(value: str | None) -> Role:
    try:
        return Role(value or "")
    except ValueError:
        abort(400)


def _to_list(org_id: uuid.UUID):
    return redirect(url_for("members.member_list", org_id=org_id))


@bp.get("/orgs/<uuid:org_id>/settings/members")
@org_page(Role.OWNER)
def member_list(access: AccessContext, org_id: uuid.UUID):
    """List the organization's members with their roles."""
    return render_template(
        "members/list.html", org_id=org_id, members=members.list_members(org_id), roles=list(Role)
    )


@bp.post("/orgs/<uuid:org_id>/settings/members")
@org_page(Role.OWNER)
def add_member(access: AccessContext, org_id: uuid.UUID):
    """Give a person (by e-mail) a role here; they sign in with that e-mail."""
    email = request.form.get("email", "")
    try:
        members.add_member(org_id, email, None, _role(request.form.get("role")), actor=actor())
        flash(f"{email.strip().lower()} can now sign in to this organization.", "success")
    except AppError as error:
        flash_refusal(error)
    return _to_list(org_id)


@bp.post("/orgs/<uuid:org_id>/settings/members/role")
@org_page(Role.OWNER)
def set_role(access: AccessContext, org_id: uuid.UUID):
    """Change a member's role; it applies at their next request."""
    email = request.form.get("email", "")
    try:
        membership = members.set_role(org_id, email, _role(request.form.get("role")), actor=actor())
        flash(f"{membership.user.email} is now {membership.role.value}.", "success")
    except AppError as error:
        flash_refusal(error)
    return _to_list(org_id)


@bp.post("/orgs/<uuid:org_id>/settings/members/remove")
@org_page(Role.OWNER)
def remove_member(access: AccessContext, org_id: uuid.UUID):
    """Remove a member; their sessions end at once."""
    email = request.form.get("email", "")
    try:
        members.remove_member(org_id, email, actor=actor())
        flash(f"{email} is no longer a member; their sessions have ended.", "success")
    except AppError as error:
        flash_refusal(error)
    return _to_list(org_id)
