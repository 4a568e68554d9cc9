"""Template globals: still a ChainMap over the environment's, with keys() as a set."""

from __future__ import annotations

from collections import ChainMap

from flask import render_template_string

from app.web.templating import Environment


def test_templates_see_environment_globals_and_imports_reuse_the_module(app):
    assert isinstance(app.jinja_env, Environment)
    ui = app.jinja_env.get_template("macros/ui.html")
    assert isinstance(ui.globals, ChainMap)
    assert ui.globals.keys() == set(ChainMap(*ui.globals.maps))
    app.jinja_env.globals["late_global"] = "seen"  # added after the template was loaded
    try:
        assert "late_global" in ui.globals.keys() and ui.globals["late_global"] == "seen"
    finally:
        del app.jinja_env.globals["late_global"]
    source = '{% import "macros/ui.html" as ui %}{{ ui.archived_tag() }}'
    with app.test_request_context("/"):
        first = render_template_string(source)
        module = ui._module
        assert render_template_string(source) == first == '<span class="tag">Archived</span>'
    assert module is not None and ui._module is module  # imported once, then reused
