"""Error pages: in the site's layout, with a reference and never the exception's text."""

from __future__ import annotations

from tests.web.conftest import text


def test_unknown_address_is_a_404_page_in_the_layout(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in text(response) and 'class="site-header"' in text(response)


def test_an_unexpected_error_is_a_500_page_in_the_layout(northwind, monkeypatch):
    client, host, _ = northwind

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("app.services.guest_connections.count_guest_connections", broken)
    response = client.get(f"/orgs/{host}/guest-connections")

    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong" in page and "Reference:" in page
    assert "boom" not in page and 'class="site-header"' in page
