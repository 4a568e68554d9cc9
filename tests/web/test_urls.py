"""Templates' url_for remembers the URLs it built: always the URL url_for itself builds."""

from __future__ import annotations

import uuid

from flask import url_for

from app.web import urls
from app.web.urls import remembered_url_for


def test_templates_use_the_remembering_url_for(app):
    assert app.jinja_env.globals["url_for"] is remembered_url_for


def test_a_remembered_url_is_the_one_url_for_builds(app):
    """Same endpoint and values under another script root, host or scheme, values that are
    equal but of other types, query arguments, lists: each gets url_for's own answer."""
    org = uuid.uuid4()
    calls = [
        ("static", {"filename": "css/app.css"}),
        ("organizations.org_home", {"org_id": org}),
        ("organizations.org_home", {"org_id": uuid.uuid4()}),
        ("guest_connections.dashboard", {"org_id": org, "limit": 1}),
        ("guest_connections.dashboard", {"org_id": org, "limit": True}),
        ("guest_connections.dashboard", {"org_id": org, "limit": 1.0}),
        ("guest_connections.dashboard", {"org_id": org, "search_text": "a b/ü"}),
        ("guest_connections.dashboard", {"org_id": org, "statuses": ["connected", "pending"]}),
        ("guest_connections.dashboard", {"org_id": org, "_anchor": "list"}),
        ("docs.docs_page", {}),
    ]
    environments = [
        {"base_url": "http://localhost/"},
        {"base_url": "http://localhost/mounted/"},
        {"base_url": "https://other.example/"},
    ]
    urls._built.clear()
    for _ in range(2):  # built, then remembered
        for environment in environments:
            with app.test_request_context("/", **environment):
                for endpoint, values in calls:
                    expected = url_for(endpoint, **values)
                    assert remembered_url_for(endpoint, **values) == expected, (
                        environment,
                        endpoint,
                        values,
                    )
    assert urls._built  # and it did remember some


def test_it_forgets_everything_when_full(app, monkeypatch):
    monkeypatch.setattr(urls, "LIMIT", 2)
    urls._built.clear()
    with app.test_request_context("/"):
        for _ in range(5):
            remembered_url_for("organizations.org_home", org_id=uuid.uuid4())
            assert len(urls._built) <= 2
