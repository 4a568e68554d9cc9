"""Sign-in with OpenID Connect: the flow, who a person is, `next`, sign-out."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from app.extensions import db
from app.models import Membership, Role, User
from app.services import organizations
from app.services.audit import Actor
from tests.conftest import csrf_token, sign_in_as, start_sign_in
from tests.oidc_provider import relative

VERIFIED = {"email": "nora@northwind.example", "email_verified": True}


def user_named(app, email: str) -> User | None:
    with app.app_context():
        return db.session.scalar(db.select(User).where(User.email == email))


def test_a_page_signed_out_goes_to_sign_in_with_next(client):
    """Does opening a bookmarked page signed out lead to sign-in, remembering the page?"""
    path = "/orgs/054b4106-174b-46b0-97f8-86d8d7b6f0af/guest-connections?search_text=alder"
    response = client.get(path)

    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/sign-in"
    assert parse_qs(location.query)["next"] == [path]


def test_sign_in_page_offers_the_provider_and_the_demo_people(app, client, oidc_provider):
    app.config["DEV_SIGN_IN_EMAILS"] = ["admin@northwind.example"]
    try:
        page = client.get("/sign-in").get_data(as_text=True)
    finally:
        app.config.pop("DEV_SIGN_IN_EMAILS")
    assert "Sign in with your company account" in page
    assert "admin@northwind.example" in page


def test_sign_in_without_a_configured_provider_says_so(app, client, oidc_provider):
    """Is a missing OIDC_ISSUER a clear page, not a crash?"""
    token = csrf_token(client)
    app.config["OIDC_ISSUER"] = None
    try:
        page = client.get("/sign-in")
        started = client.post("/sign-in", data={"csrf_token": token})
    finally:
        app.config["OIDC_ISSUER"] = oidc_provider.issuer
    assert page.status_code == 503
    assert "Sign-in is not configured" in page.get_data(as_text=True)
    assert started.status_code == 503


def test_the_request_uses_pkce_state_and_nonce(client, oidc_provider):
    response = start_sign_in(client)
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert response.headers["Location"].startswith(oidc_provider.issuer + "/oauth2/authorize")
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
    assert query["state"] and query["nonce"]
    assert query["scope"] == ["openid email profile"]


def test_provisioned_user_signs_in_by_verified_email(
    app, client, oidc_provider, make_org, make_member
):
    """Is a user added with `flask members add` found by verified e-mail, and linked?"""
    org = make_org("Northwind Supplies")
    make_member(org, "Nora@Northwind.example", role="admin")

    response = sign_in_as(client, oidc_provider, "sub-nora", VERIFIED)

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/").headers["Location"] == f"/orgs/{org}/guest-connections"
    user = user_named(app, "nora@northwind.example")
    assert user.oidc_issuer == oidc_provider.issuer
    assert user.oidc_subject == "sub-nora"
    assert user.last_login_at is not None


def test_linked_user_is_found_by_subject_even_without_email(
    client, oidc_provider, make_org, make_member
):
    org = make_org("Northwind Supplies")
    make_member(org, "nora@northwind.example")
    sign_in_as(client, oidc_provider, "sub-nora", VERIFIED)
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/signed-out")})

    response = sign_in_as(client, oidc_provider, "sub-nora", {"name": "Nora"})

    assert response.status_code == 302
    assert client.get("/").headers["Location"] == f"/orgs/{org}/guest-connections"


@pytest.mark.parametrize(
    "claims",
    [
        {"email": "nora@northwind.example"},  # not said to be verified
        {"email": "nora@northwind.example", "email_verified": False},
        {"email": "someone.else@northwind.example", "email_verified": True},
        {},
    ],
    ids=["unverified", "verified-false", "unknown-email", "no-email"],
)
def test_unknown_person_gets_a_clear_refusal(
    app, client, oidc_provider, make_org, make_member, claims
):
    """Is a person we cannot match refused with a page saying why, and left signed out?"""
    make_member(make_org("Northwind Supplies"), "nora@northwind.example")

    response = sign_in_as(client, oidc_provider, "sub-stranger", claims)

    assert response.status_code == 403
    assert "There is no Guest Connections account for you yet" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still signed out
    assert user_named(app, "nora@northwind.example").oidc_subject is None


def test_email_linked_to_another_subject_is_refused(client, oidc_provider, make_org, make_member):
    make_member(make_org("Northwind Supplies"), "nora@northwind.example")
    sign_in_as(client, oidc_provider, "sub-nora", VERIFIED)
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/signed-out")})

    response = sign_in_as(client, oidc_provider, "sub-impostor", VERIFIED)

    assert response.status_code == 403
    assert "already linked to another sign-in account" in response.get_data(as_text=True)


def link(app, org, issuer: str, value: str) -> None:
    """Opt the organization in to sign-in by claim, as its owner would."""
    with app.app_context():
        organizations.link_sso(org, issuer, value, actor=Actor.cli())


def test_org_claim_provisions_member_of_linked_organizations(app, client, oidc_provider, make_org):
    """Does OIDC_ORG_CLAIM make a new person a member (role member) of the linked orgs only?"""
    org = make_org("Northwind Supplies")
    link(app, org, oidc_provider.issuer, "northwind-eu")
    app.config["OIDC_ORG_CLAIM"] = "orgs"
    try:
        claims = {
            "email": "new@northwind.example",
            "email_verified": True,
            "orgs": ["northwind-eu", "b9bd6a41-5b1f-4fb3-9c8e-1f3b8c0d2e77", "not-linked"],
        }
        response = sign_in_as(client, oidc_provider, "sub-new", claims)
    finally:
        app.config["OIDC_ORG_CLAIM"] = None

    assert response.status_code == 302
    assert client.get("/").headers["Location"] == f"/orgs/{org}/guest-connections"
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == "new@northwind.example"))
        memberships = db.session.scalars(
            db.select(Membership).where(Membership.user_id == user.id)
        ).all()
        assert [(m.organization_id, m.role) for m in memberships] == [(org, Role.MEMBER)]


def test_org_claim_adds_memberships_to_a_known_user(
    app, client, oidc_provider, make_org, make_member
):
    first, second = make_org("First Host"), make_org("Second Host")
    link(app, second, oidc_provider.issuer, "second")
    make_member(first, "nora@northwind.example", role="owner")
    app.config["OIDC_ORG_CLAIM"] = "orgs"
    try:
        sign_in_as(client, oidc_provider, "sub-nora", {**VERIFIED, "orgs": "first, second"})
    finally:
        app.config["OIDC_ORG_CLAIM"] = None

    assert client.get(f"/orgs/{second}/guest-connections").status_code == 200
    with app.app_context():
        roles = dict(
            db.session.execute(db.select(Membership.organization_id, Membership.role)).all()
        )
    assert roles == {first: Role.OWNER, second: Role.MEMBER}


@pytest.mark.parametrize(
    "case",
    ["an unlinked organization's id", "a value linked at another issuer", "another org's value"],
)
def test_org_claim_grants_nothing_an_owner_did_not_link(app, client, oidc_provider, make_org, case):
    """Naming an organization that did not opt in (for this issuer) admits nobody."""
    org = make_org("Northwind Supplies")
    other = make_org("Other Ltd")
    link(app, other, oidc_provider.issuer, "other-ltd")
    if case == "a value linked at another issuer":
        link(app, org, "https://login.elsewhere.example", "northwind-eu")
    claim = {
        "an unlinked organization's id": str(org),
        "a value linked at another issuer": "northwind-eu",
        "another org's value": "northwind",
    }[case]
    app.config["OIDC_ORG_CLAIM"] = "orgs"
    try:
        claims = {"email": "new@northwind.example", "email_verified": True, "orgs": [claim]}
        response = sign_in_as(client, oidc_provider, "sub-new", claims)
    finally:
        app.config["OIDC_ORG_CLAIM"] = None

    assert response.status_code == 403  # no organization: not provisioned
    assert user_named(app, "new@northwind.example") is None


def test_org_claim_ignored_when_not_configured(app, client, oidc_provider, make_org):
    org = make_org("Northwind Supplies")
    claims = {"email": "new@northwind.example", "email_verified": True, "orgs": [str(org)]}
    response = sign_in_as(client, oidc_provider, "sub-new", claims)
    assert response.status_code == 403
    assert user_named(app, "new@northwind.example") is None


def test_person_with_no_organization_sees_a_clear_page(app, client, oidc_provider):
    with app.app_context():
        db.session.add(User(email="lonely@example.com"))
        db.session.commit()
    sign_in_as(
        client, oidc_provider, "sub-lonely", {"email": "lonely@example.com", "email_verified": True}
    )

    response = client.get("/")

    assert response.status_code == 200
    assert "not in an organization yet" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("next_path", "lands_on"),
    [
        ("/orgs/x/guest-connections?search_text=a", "/orgs/x/guest-connections?search_text=a"),
        ("https://evil.example/", "/"),
        ("//evil.example/path", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("evil.example", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
    ],
)
def test_next_is_followed_only_for_paths_on_this_site(
    client, oidc_provider, make_org, make_member, next_path, lands_on
):
    make_member(make_org("Northwind Supplies"), "nora@northwind.example")
    response = sign_in_as(client, oidc_provider, "sub-nora", VERIFIED, next_path=next_path)
    assert response.status_code == 302
    assert response.headers["Location"] == lands_on


def test_sign_in_page_when_signed_in_follows_a_safe_next_only(signed_in, make_org):
    client = signed_in(make_org("Northwind Supplies"))
    assert client.get("/sign-in?next=/signed-out").headers["Location"] == "/signed-out"
    assert client.get("/sign-in?next=//evil.example").headers["Location"] == "/"


def test_session_is_renewed_at_sign_in(client, oidc_provider, make_org, make_member):
    """Does nothing planted in the session before sign-in survive it?"""
    make_member(make_org("Northwind Supplies"), "nora@northwind.example")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"

    sign_in_as(client, oidc_provider, "sub-nora", VERIFIED)

    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("_user_id")


def test_cancelled_at_the_provider(client, oidc_provider):
    to_provider = start_sign_in(client)
    back = oidc_provider.deny(to_provider.headers["Location"])

    response = client.get(relative(back))

    assert response.status_code == 400
    assert "cancelled" in response.get_data(as_text=True)


def test_callback_with_a_forged_state_is_refused(client, oidc_provider):
    start_sign_in(client)
    response = client.get("/auth/callback?code=stolen&state=forged")
    assert response.status_code == 400
    assert "Sign-in did not complete" in response.get_data(as_text=True)


def test_sign_out_ends_the_session_and_the_providers(signed_in, make_org, oidc_provider):
    client = signed_in(make_org("Northwind Supplies"))

    response = client.post("/sign-out", data={"csrf_token": csrf_token(client, "/signed-out")})

    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}" == oidc_provider.issuer
    query = parse_qs(location.query)
    assert query["post_logout_redirect_uri"] == ["http://localhost/signed-out"]
    assert query["id_token_hint"]
    assert client.get("/").status_code == 302  # signed out here


def test_sign_out_without_csrf_token_is_400(signed_in, make_org):
    client = signed_in(make_org("Northwind Supplies"))
    response = client.post("/sign-out")
    assert response.status_code == 400
    assert "form has expired" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302 and "/orgs/" in client.get("/").headers["Location"]
