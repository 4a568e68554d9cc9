"""A page's HTML rendered once for what it shows, with what changes at each view filled in then.

Rendering the detail page's template (the layout, the cards, two dozen macro calls) was half
of the page's cost, and its output is a function of what the page read and who reads it: the
same rows, seen by the same person, give the same HTML, except for two things that change with
every view: the CSRF token (Flask-WTF signs one per request) and the relative times ("4 minutes
ago"), which move with the clock. render_remembered renders the template once with a marker in
the place of each of those, keeps the HTML cut at the markers, and at each view joins the
pieces with those values computed then. So a remembered page is never older than its data: it
is rendered again as soon as anything it shows changes, since that changes its key.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Hashable, Mapping
from contextvars import ContextVar
from typing import Any, NamedTuple

from flask import Flask, current_app, render_template, request, session
from flask_login import current_user
from markupsafe import escape

# Renderings kept per process (a detail page is 8–30 KB: at most ~15 MB). All are dropped when
# full: no LRU bookkeeping on the hot path, and the next views render again.
PAGES_KEPT = 512
# Cuts the HTML where a value is filled in at each view. Unguessable, so no text a page shows
# (a guest's name, say) can contain it; and left as is by HTML escaping.
_MARK = "\x1e" + secrets.token_hex(16) + "\x1e"
# The fills of the rendering under way in this context, in the order their markers were made.
_recording: ContextVar[list[Callable[[], str]] | None] = ContextVar(
    "rendered_pages_fills", default=None
)


class RenderedPage(NamedTuple):
    texts: tuple[str, ...]  # the HTML between the markers: one more than fills
    fills: tuple[Callable[[], str], ...]  # what goes between texts[i] and texts[i + 1]


def filled_at_each_view(fill: Callable[[], str]) -> str | None:
    """In a rendering render_remembered keeps: return the marker of what fill() gives at a view.

    Elsewhere (any other page, an e-mail): None, and the caller outputs its value now. The
    template must output what it gets as text, and nothing else: the marker only stands in for
    the value in the HTML.
    """
    fills = _recording.get()
    if fills is None:
        return None
    fills.append(fill)
    return f"{_MARK}{len(fills) - 1}{_MARK}"


def render_remembered(
    template_name: str, shows: Hashable, context: Callable[[], Mapping[str, Any]]
) -> str:
    """Return render_template(template_name, **context()), rendered once for what it shows.

    `shows` must determine the context, and be hashable: the rows the page read, as tuples.
    The key adds the signed-in person's access (name, organizations and roles: the layout and
    what they may do) and the address the request came in on (its links). So the template may
    read only its context, the signed-in user, url_for and the filled_at_each_view values: a
    page that shows anything else must not be rendered here. A pending flash message shows
    once, so such a view renders afresh, as does a visitor who is not signed in.
    """
    if "_flashes" in session or not current_user.is_authenticated:
        return render_template(template_name, **context())
    pages: dict[Hashable, RenderedPage] = current_app.extensions["rendered_pages"]
    key = (template_name, shows, current_user.access, request.url_root)
    try:
        page = pages.get(key)
    except TypeError:  # shows holds a value that cannot key a dict: render, and keep nothing
        return render_template(template_name, **context())
    if page is None:
        page = _render_with_markers(template_name, context())
        if len(pages) >= PAGES_KEPT:
            pages.clear()
        pages[key] = page
    return _filled(page)


def init_app(app: Flask) -> None:
    app.extensions["rendered_pages"] = {}


def _render_with_markers(template_name: str, context: Mapping[str, Any]) -> RenderedPage:
    fills: list[Callable[[], str]] = []
    recording = _recording.set(fills)
    try:
        html = render_template(template_name, **context)
    finally:
        _recording.reset(recording)
    pieces = html.split(_MARK)  # text, fill number, text, ..., text
    # A template may output a value after one it made later ({% call %}, {% set %} blocks).
    return RenderedPage(tuple(pieces[::2]), tuple(fills[int(n)] for n in pieces[1::2]))


def _filled(page: RenderedPage) -> str:
    texts, fills = page
    if not fills:
        return texts[0]
    parts = [texts[0]]
    for fill, text in zip(fills, texts[1:], strict=True):
        parts.append(escape(fill()))  # as the template's autoescaping would have
        parts.append(text)
    return "".join(parts)
