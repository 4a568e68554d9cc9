"""Guest invitations as a service: previewing a link, accepting as a new organization."""

from __future__ import annotations

import pytest

from app.errors import AppError
from app.extensions import db
from app.http import email_confirmation_url
from app.models import Membership, Organization, Role, User
from app.services import guest_invitations
from app.services.audit import Actor


@pytest.fixture
def invitation(api, host, host_token):
    return api.invite(host_token, host, "cfo@alder.example").json


@pytest.fixture
def user_id(app, make_org, make_member):
    make_member(make_org("Somewhere Else"), "cfo@alder.example")
    with app.app_context():
        return db.session.scalar(db.select(User.id))


def test_the_preview_names_the_host(app, host, invitation):
    """Does the page learn whom the invitation is from, and that it can be accepted?"""
    with app.app_context():
        preview = guest_invitations.preview_invitation(invitation["invitation_token"])
    assert (preview.host_organization_id, preview.host_name) == (host, "Northwind Supplies")
    assert preview.email == "cfo@alder.example"
    assert preview.problem is None


def test_the_preview_says_why_a_used_link_is_dead(app, host, invitation, guest, guest_token, api):
    api.accept(guest_token, guest, host, invitation["invitation_token"])
    with app.app_context():
        preview = guest_invitations.preview_invitation(invitation["invitation_token"])
        with pytest.raises(AppError) as unknown:
            guest_invitations.preview_invitation("not-a-real-token-at-all")
    assert "already been accepted" in preview.problem
    assert unknown.value.status == 404


def test_accepting_as_a_new_organization_makes_the_user_its_owner(app, host, invitation, user_id):
    with app.app_context():
        connection = guest_invitations.accept_as_new_organization(
            user_id,
            "Alder Foods",
            "finance@alder.example",
            host,
            invitation["invitation_token"],
            actor=Actor.cli(),
            confirm_url=email_confirmation_url,
        )
        organization = db.session.get(Organization, connection.guest_organization_id)
        membership = db.session.get(Membership, (user_id, organization.id))
    assert connection.status == "connected"
    assert organization.name == "Alder Foods"
    assert membership.role == Role.OWNER


def test_a_refused_acceptance_creates_no_organization(app, host, invitation, user_id):
    with app.app_context():
        before = db.session.scalar(db.select(db.func.count()).select_from(Organization))
        with pytest.raises(AppError):
            guest_invitations.accept_as_new_organization(
                user_id,
                "Alder",
                None,
                host,
                "x" * 43,
                actor=Actor.cli(),
                confirm_url=email_confirmation_url,
            )
        after = db.session.scalar(db.select(db.func.count()).select_from(Organization))
    assert after == before
