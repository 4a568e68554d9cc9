"""Real-browser fixtures: a live server of the app, the sign-in provider, headless Chromium.

Chromium is Debian's (package `chromium`, found on the PATH); without it these tests skip.
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.oidc_provider import ProviderHandle

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.skip("no chromium on the PATH (Debian package `chromium`; .ci/run installs it)")
    return path


@pytest.fixture(scope="session")
def live_server(app: Flask, oidc_provider: ProviderHandle) -> Iterator[str]:
    """Serve the test app on 127.0.0.1 in a thread; yield its base URL."""
    server = make_server("127.0.0.1", 0, _buffered(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def _buffered(app: Flask):
    """Hand the server each response as bytes, its files and streams already closed.

    Chromium drops connections it no longer needs (a favicon on a quick navigation). Werkzeug's
    development server then fails in its clean-up before closing the response, and the open
    static file surfaces later as a ResourceWarning in whichever test is running. Buffering
    here closes every response in our hands; the pages are small.
    """

    def application(environ, start_response):
        response = app(environ, start_response)
        try:
            return [b"".join(response)]
        finally:
            if hasattr(response, "close"):
                response.close()

    return application


@pytest.fixture(scope="session")
def browser(chromium_path: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@contextmanager
def hermetic_page(browser) -> Iterator:
    """Open a fresh browser context (no cookies) and page; CSP violations are collected."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    # Hermetic: only our server and the provider answer (the provider's form links a CDN style).
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/]|localhost[:/])"), _abort)
    new_page = context.new_page()
    new_page.csp_violations = []
    new_page.on(
        "console",
        lambda message: (
            new_page.csp_violations.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    try:
        yield new_page
    finally:
        context.close()


@pytest.fixture
def page(browser):
    with hermetic_page(browser) as new_page:
        yield new_page


def _abort(route) -> None:
    route.abort()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def sign_in_at_provider(page, sub: str) -> None:
    """On our sign-in page: press the button, then sign in on the provider's form."""
    page.get_by_role("button", name="Sign in with your company account").click()
    page.locator("input[name=sub]").fill(sub)
    page.get_by_role("button", name="Authorize").click()


# Every element that is wider than its box (or the page wider than the screen), as text.
_OVERFLOWING = """() => {
  const found = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) found.push(`page: ${root.scrollWidth}px`);
  for (const box of document.querySelectorAll("main, .panel, .table-wrap, .stat, td, th")) {
    if (box.clientWidth > 0 && box.scrollWidth > box.clientWidth + 1) {
      const name = `${box.tagName.toLowerCase()}.${box.className}`;
      found.push(`${name}: ${box.scrollWidth}px in ${box.clientWidth}px`);
    }
  }
  return found;
}"""


def overflowing(page) -> list[str]:
    """Return what sticks out on the page: the page itself, or a table, card or cell."""
    return page.evaluate(_OVERFLOWING)


PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def tab_to(page, selector: str, limit: int = 60) -> None:
    """Press Tab until the focused element matches selector (keyboard only), or fail."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} was not reached with Tab in {limit} presses")
