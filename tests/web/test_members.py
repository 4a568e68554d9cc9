"""Settings → Members: owners add people, change roles and remove them; nobody else can."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Membership, Role, User
from tests.conftest import sign_in_as
from tests.web.conftest import post_form, text

OWNER = "owner@northwind.example"


def members_page(org) -> str:
    return f"/orgs/{org}/settings/members"


def role_of(app, org, email: str) -> Role | None:
    with app.app_context():
        return db.session.scalar(
            db.select(Membership.role)
            .join(User)
            .where(Membership.organization_id == org, User.email == email)
        )


def test_an_owner_adds_promotes_and_removes_a_member(app, signed_in, make_org):
    org = make_org("Northwind Supplies")
    client = signed_in(org, OWNER, role="owner")
    page = members_page(org)
    assert f'href="{page}"' in text(client.get(f"/orgs/{org}/guest-connections"))

    added = post_form(client, page, page, email="Sam@Northwind.example", role="member")
    promoted = post_form(client, f"{page}/role", page, email="sam@northwind.example", role="admin")
    listed = text(client.get(page))
    removed = post_form(client, f"{page}/remove", page, email="sam@northwind.example")

    assert added.status_code == promoted.status_code == removed.status_code == 302
    assert "sam@northwind.example" in listed and OWNER in listed
    assert role_of(app, org, "sam@northwind.example") is None
    assert "no longer a member" in text(client.get(page))


def test_the_last_owner_cannot_leave_the_organization_ownerless(app, signed_in, make_org):
    org = make_org("Northwind Supplies")
    client = signed_in(org, OWNER, role="owner")
    page = members_page(org)
    response = post_form(client, f"{page}/role", page, email=OWNER, role="member")
    assert "at least one owner" in text(client.get(response.headers["Location"]))
    assert role_of(app, org, OWNER) == Role.OWNER


def test_a_role_change_applies_to_the_other_persons_next_request(
    app, signed_in, make_org, make_member, oidc_provider
):
    org = make_org("Northwind Supplies")
    owner = signed_in(org, OWNER, role="owner")
    make_member(org, "sam@northwind.example", role="admin")
    sam = app.test_client()
    sign_in_as(
        sam, oidc_provider, "sub-sam", {"email": "sam@northwind.example", "email_verified": True}
    )
    assert sam.get(f"/orgs/{org}/invitations").status_code == 200

    page = members_page(org)
    post_form(owner, f"{page}/remove", page, email="sam@northwind.example")

    assert sam.get(f"/orgs/{org}/invitations").headers["Location"].startswith("/sign-in")


@pytest.mark.parametrize("role", ["admin", "member"])
def test_only_owners_manage_members(app, signed_in, make_org, role):
    org = make_org("Northwind Supplies")
    client = signed_in(org, role=role)
    page = members_page(org)
    assert f'href="{page}"' not in text(client.get(f"/orgs/{org}/guest-connections"))
    assert client.get(page).status_code == 403
    dashboard = f"/orgs/{org}/guest-connections"
    response = post_form(client, page, dashboard, email="x@northwind.example", role="owner")
    assert response.status_code == 403
    assert role_of(app, org, "x@northwind.example") is None
