"""``flask check`` lints every declared UI: template, HTML5, MIME type, exact CSP, size budget."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask import Flask
from mcp.server.apps import APP_MIME_TYPE

from plugin.api.operations import ApiBlueprint, OperationUi, api_operation
from plugin.mcp import ui_check
from tests.helpers import serving

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Lint</title>{head}</head>
<body>{body}</body>
</html>
"""


def declare_ui(app: Flask, folder: Path, ui: OperationUi, text: str | None) -> None:
    """Route one more operation whose UI is ``ui``, its template holding ``text`` (or none)."""
    if text is not None:
        (folder / ui.template).parent.mkdir(parents=True, exist_ok=True)
        (folder / ui.template).write_text(text)
    extra = ApiBlueprint("lint_ui", __name__, url_prefix="/api", template_folder=str(folder))

    @extra.get("/lint-ui")
    @api_operation(
        "lintUi", summary="A UI to lint.", scope="todos:read", responses={200: None}, ui=ui
    )
    def lint_ui() -> dict:
        return {}

    app.register_blueprint(extra)


def lint(app: Flask, template: str) -> list[str]:
    """The check's lines about ``template`` (the sample's own UI is linted beside it)."""
    with app.app_context():
        found = ui_check.check_uis(lambda url: "", "http://localhost")
    return [str(f) for f in found if f.where == f"mcp.ui[{template}]"]


def test_the_sample_ui_passes_and_its_size_is_printed(runner):
    result = runner.invoke(args=["check"])
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if "mcp.ui[" in line)
    sizes = re.search(r"([\d,]+) bytes \(([\d,]+) gzipped\) of a ([\d,]+)-byte budget", line)
    assert line.startswith("info: mcp.ui[todos/ui/list.html]: ui://app/")
    assert sizes is not None
    size, gzipped, budget = (int(group.replace(",", "")) for group in sizes.groups())
    assert 0 < gzipped < size <= budget == ui_check.BUDGET


def test_over_http_the_ui_is_linted_in_process(app, runner):
    with serving(app) as base:
        result = runner.invoke(args=["check", base, "--json"])
    assert result.exit_code == 0, result.output
    (ui,) = [f for f in json.loads(result.output)["findings"] if f["where"].startswith("mcp.ui")]
    assert ui["severity"] == "info"
    assert "rendered in-process" in ui["message"]


def test_a_missing_template_is_named_and_check_fails_without_a_traceback(app, runner, tmp_path):
    declare_ui(app, tmp_path, OperationUi("lint/missing.html"), None)
    assert lint(app, "lint/missing.html") == [
        "error: mcp.ui[lint/missing.html]: template 'lint/missing.html' not found: "
        "put it under templates/"
    ]
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1
    assert "error: mcp.tools: cannot be listed: lint/missing.html" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("<p>Hello</p>", "does not begin with <!doctype html>; it has no <html>, <head>, <body>"),
        (
            PAGE.format(head="", body="<p>Hi</p>").replace("</html>", ""),
            "does not end with </html>",
        ),
        ("<html><head></head><body></body></html>", "does not begin with <!doctype html>"),
    ],
)
def test_a_template_that_is_not_a_complete_html5_document_fails(
    app, runner, tmp_path, text, problem
):
    declare_ui(app, tmp_path, OperationUi("lint/page.html"), text)
    (line,) = [line for line in lint(app, "lint/page.html") if not line.startswith("info:")]
    assert line.startswith("error: mcp.ui[lint/page.html]: is not a complete HTML5 document")
    assert problem in line
    assert runner.invoke(args=["check"]).exit_code == 1


def test_a_declared_domain_the_page_never_uses_fails(app, tmp_path):
    ui = OperationUi("lint/page.html", connect_domains=("https://api.example.com",))
    declare_ui(app, tmp_path, ui, PAGE.format(head="", body="<p>Nothing outside.</p>"))
    assert lint(app, "lint/page.html")[:1] == [
        "error: mcp.ui[lint/page.html]: connect_domains declares https://api.example.com, which "
        "the page never uses: remove it (reviewers want the CSP exact)"
    ]


def test_a_domain_the_page_uses_but_does_not_declare_fails(app, tmp_path):
    body = """<img src="https://cdn.example.net/logo.png" alt="">
<iframe src="//player.example.org/embed" title="video"></iframe>
<div style="background: url('https://img.example.net/bg.png')"></div>
<a href="https://example.com/help">Help</a>
<script type="module">await fetch("https://api.example.com/items");</script>"""
    head = '<link rel="stylesheet" href="https://fonts.example.com/a.css">'
    declare_ui(app, tmp_path, OperationUi("lint/page.html"), PAGE.format(head=head, body=body))
    lines = lint(app, "lint/page.html")
    undeclared = [line for line in lines if line.startswith("error:")]
    for needed in (
        "uses https://fonts.example.com/a.css but resource_domains does not declare "
        "https://fonts.example.com",
        "uses https://cdn.example.net/logo.png but resource_domains",
        "uses //player.example.org/embed but frame_domains",
        "uses https://img.example.net/bg.png but resource_domains",
        "uses https://api.example.com/items but connect_domains or resource_domains",
    ):
        assert any(needed in line for line in undeclared), needed
    # A link is navigation, which the CSP does not govern (the host opens it).
    assert not any("example.com/help" in line for line in lines)
    assert len(undeclared) == 5


def test_declaring_exactly_what_the_page_uses_passes(app, tmp_path):
    body = """<img src="https://cdn.example.net/logo.png" alt="">
<script type="module">await fetch("https://api.example.com/items");</script>"""
    ui = OperationUi(
        "lint/page.html",
        resource_domains=("https://cdn.example.net",),
        connect_domains=("api.example.com",),
    )
    declare_ui(app, tmp_path, ui, PAGE.format(head="", body=body))
    (line,) = lint(app, "lint/page.html")
    assert line.startswith("info: mcp.ui[lint/page.html]: ui://app/")


def test_a_wildcard_domain_fails(app, tmp_path):
    body = '<img src="https://a.example.net/x.png" alt="">'
    ui = OperationUi("lint/page.html", resource_domains=("https://*.example.net",))
    declare_ui(app, tmp_path, ui, PAGE.format(head="", body=body))
    lines = lint(app, "lint/page.html")
    assert (
        "error: mcp.ui[lint/page.html]: resource_domains has the wildcard "
        "'https://*.example.net': list each host"
    ) in lines


def test_a_ui_over_the_size_budget_fails(app, runner, tmp_path):
    filler = f"{{{{ 'x' * {ui_check.BUDGET + 1} }}}}"
    declare_ui(app, tmp_path, OperationUi("lint/big.html"), PAGE.format(head="", body=filler))
    (line,) = lint(app, "lint/big.html")
    assert line.startswith("error: mcp.ui[lint/big.html]: ui://app/")
    assert f"of a {ui_check.BUDGET:,}-byte budget" in line
    assert "over budget" in line
    assert runner.invoke(args=["check"]).exit_code == 1


def test_the_mime_type_must_be_the_app_profile():
    assert ui_check._check_mime("mcp.ui[x]", {APP_MIME_TYPE}) == []
    (wrong,) = ui_check._check_mime("mcp.ui[x]", {APP_MIME_TYPE, "text/html"})
    assert "hosts render only text/html;profile=mcp-app" in str(wrong)


def test_a_missing_csp_fails():
    html = PAGE.format(head="", body="")
    (finding,) = ui_check.check_csp("mcp.ui[x]", {"ui": {}}, html)
    assert "states no _meta.ui.csp" in str(finding)
