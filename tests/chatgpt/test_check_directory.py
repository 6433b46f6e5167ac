"""``flask check --directory``: the submission values, and each problem a reviewer would
reject failing the command with its fix."""

from __future__ import annotations

import json
import re

import pytest
from flask import abort, request

from plugin.api.operations import (
    PROMPTS,
    ApiBlueprint,
    ExamplePrompts,
    OperationUi,
    api_operation,
)
from plugin.extensions import db
from plugin.mcp import apps
from tests.helpers import serving

READY = {
    "PLUGIN_BASE_URL": "https://todo.dev",
    "PLUGIN_PUBLISHER": "Todo Dev Ltd",
    "PLUGIN_CONTACT_EMAIL": "help@todo.dev",
    "OPENAI_APPS_CHALLENGE_TOKEN": "challenge-abc",
}


@pytest.fixture
def app_config(app_config) -> dict:
    return {**app_config, **READY}


def check(runner, *args: str) -> tuple[int, dict]:
    result = runner.invoke(args=["check", "--directory", "--json", *args])
    return result.exit_code, json.loads(result.output)


def errors(report: dict) -> dict[str, str]:
    return {f["where"]: f["message"] for f in report["findings"] if f["severity"] == "error"}


@pytest.fixture
def reviewer(runner):
    assert runner.invoke(args=["users", "create-reviewer"]).exit_code == 0


def test_a_ready_deployment_prints_every_submission_value(app, runner, reviewer):
    result = runner.invoke(args=["check", "--directory"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "MCP server URL       https://todo.dev/mcp" in out
    assert "OAuth 2.1 authorization code with PKCE (S256)" in out
    assert "dynamic client registration (RFC 7591), Client ID Metadata Documents" in out
    for page in ("privacy", "terms", "support"):
        assert f"https://todo.dev/{page}" in out
    assert "(contact: help@todo.dev)" in out
    assert "https://todo.dev/.well-known/openai-apps-challenge" in out
    assert "UI CSP domains       none (the UIs load nothing from outside)" in out
    assert re.search(
        r"^  todos/ui/list\.html: ui://app/[0-9a-f]{12}/todos/ui/list\.html, [\d,]+ bytes; "
        r"CSP: none$",
        out,
        re.MULTILINE,
    )
    assert "Reviewer account     reviewer-" in out
    assert "deleteTodo: readOnlyHint=false destructiveHint=true" in out
    assert "What's on my todo list?" in out and "Write a haiku about autumn." in out
    assert out.rstrip().endswith("Ready to submit (3 warning(s)).")


def test_the_json_report_holds_the_same(app, runner, reviewer):
    code, report = check(runner)
    assert code == 0 and report["ok"] is True
    assert report["mcp_url"] == "https://todo.dev/mcp"
    assert report["policies"]["terms"] == "https://todo.dev/terms"
    assert report["csp_domains"] == []
    (ui,) = report["uis"]
    assert ui["template"] == "todos/ui/list.html"
    with app.test_request_context():
        served = apps.ui_resources()["todos/ui/list.html"]
    assert (ui["uri"], ui["size"]) == (served.uri, len(served.html.encode()))
    assert ui["csp"] == {
        "connect_domains": [],
        "resource_domains": [],
        "frame_domains": [],
        "base_uri_domains": [],
    }
    assert len(report["example_prompts"]["should_use"]) >= 5
    tool = next(t for t in report["tools"] if t["name"] == "listTodos")
    assert tool["annotations"]["readOnlyHint"]["value"] is True
    assert tool["annotations"]["readOnlyHint"]["why"]


@pytest.mark.parametrize(
    ("base", "message"),
    [
        ("http://todo.dev", "is not https"),
        ("https://127.0.0.1:8443", "is not reachable from the internet"),
        ("https://todo.test", "is not reachable from the internet"),
    ],
)
def test_a_base_url_reviewers_cannot_reach_fails(app, runner, reviewer, base, message):
    app.config["PLUGIN_BASE_URL"] = base
    code, report = check(runner)
    assert code == 1
    assert message in errors(report)["directory.base_url"]
    assert "PLUGIN_BASE_URL" in errors(report)["directory.base_url"]


def test_a_missing_challenge_token_fails(app, runner, reviewer):
    app.config["OPENAI_APPS_CHALLENGE_TOKEN"] = None
    code, report = check(runner)
    assert code == 1
    assert "settings set openai-apps-challenge-token" in errors(report)["directory.challenge"]


def test_built_in_policies_without_a_publisher_fail(app, runner, reviewer):
    app.config["PLUGIN_PUBLISHER"] = None
    code, report = check(runner)
    assert code == 1
    for page in ("privacy", "terms", "support"):
        assert "PLUGIN_PUBLISHER" in errors(report)[f"directory.{page}"]


def test_an_edited_policy_page_is_no_longer_flagged(app, runner, reviewer, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "terms.md").write_text("# Our terms\n\nBe kind.\n")
    code, report = check(runner)
    assert code == 0
    assert [f["where"] for f in report["findings"]] == ["directory.privacy", "directory.support"]


def test_an_unreachable_policy_page_fails(app, runner, reviewer):
    @app.before_request
    def _hide_terms():
        if request.path == "/terms":
            abort(404)

    code, report = check(runner)
    assert code == 1
    assert "unreachable (/terms answered 404)" in errors(report)["directory.terms"]


def test_a_placeholder_contact_fails(app, runner, reviewer):
    app.config["PLUGIN_CONTACT_EMAIL"] = "support@example.com"
    code, report = check(runner)
    assert code == 1
    assert "PLUGIN_CONTACT_EMAIL" in errors(report)["directory.contact"]


def test_too_few_example_prompts_fail(app, runner, reviewer):
    app.extensions[PROMPTS] = [ExamplePrompts(should_use=("Show my list",), should_not_use=())]
    code, report = check(runner)
    assert code == 1
    found = errors(report)
    assert "1 example prompt(s)" in found["directory.prompts.should_use"]
    assert "at least 3" in found["directory.prompts.should_not_use"]


def test_a_tool_without_a_justification_fails(app, runner, reviewer):
    bp = ApiBlueprint("calendar_api", __name__, url_prefix="/api/cal")

    @bp.post("/events")
    @api_operation(
        "addCalendarEvent",
        summary="Add an event to the person's calendar.",
        scope=None,
        responses={204: None},
        annotations={"openWorldHint": (True, "")},
    )
    def add_event() -> tuple[None, int]:
        return None, 204

    app.register_blueprint(bp)
    code, report = check(runner)
    assert code == 1
    message = errors(report)["directory.tools[addCalendarEvent].openWorldHint"]
    assert "one-line justification" in message and "annotations=" in message


def test_mcp_turned_off_fails(other_app):
    app = other_app(MCP_ENABLED=False)
    code, report = check(app.test_cli_runner())
    assert code == 1
    assert "MCP_ENABLED=true" in errors(report)["directory.mcp"]
    # The UI is still declared, and is served nowhere.
    (ui,) = report["uis"]
    assert ui["uri"] is None and ui["size"] is None
    out = app.test_cli_runner().invoke(args=["check", "--directory"]).output
    assert "todos/ui/list.html: not served (MCP_ENABLED is off); CSP: none" in out
    with app.app_context():
        db.engine.dispose()


def test_without_a_reviewer_account_it_warns(app, runner):
    code, report = check(runner)
    assert code == 0
    warning = next(f for f in report["findings"] if f["where"] == "directory.reviewer")
    assert warning["severity"] == "warning" and "users create-reviewer" in warning["message"]


def test_over_http_it_reads_the_served_deployment(app, runner):
    app.config["PLUGIN_BASE_URL"] = None
    with serving(app) as base:
        code, report = check(runner, base)
    assert code == 1
    # Served on plain http: that alone is wrong; every page and the token were fetched.
    assert list(errors(report)) == ["directory.base_url"]
    assert report["policies"]["privacy"] == base + "/privacy"
    assert report["contact"] == "help@todo.dev"
    # The local database is not the served deployment's: no reviewer accounts are read.
    assert report["reviewers"] is None


def ui_operation(app, tmp_path, ui: OperationUi, text: str | None = None) -> None:
    """Route an operator's operation whose UI is ``ui``, its template holding ``text``."""
    if text is not None:
        (tmp_path / ui.template).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / ui.template).write_text(text)
    bp = ApiBlueprint("map_api", __name__, url_prefix="/api/map", template_folder=str(tmp_path))

    @bp.get("/places")
    @api_operation("showPlaces", summary="Show places.", scope=None, responses={200: None}, ui=ui)
    def places() -> dict:
        return {}

    app.register_blueprint(bp)


MAP_PAGE = """<!doctype html><html><head><title>Map</title></head><body>
<img src="https://tiles.example.org/0/0/0.png" alt="map">
<script type="module">fetch("https://geo.example.org/search");</script></body></html>"""


def test_the_ui_csp_domains_come_from_the_declarations(app, runner, reviewer, tmp_path):
    ui = OperationUi(
        "map/places.html",
        connect_domains=("https://geo.example.org",),
        resource_domains=("https://tiles.example.org",),
    )
    ui_operation(app, tmp_path, ui, MAP_PAGE)
    code, report = check(runner)
    assert code == 0, report["findings"]
    assert report["csp_domains"] == ["https://geo.example.org", "https://tiles.example.org"]
    mine = next(each for each in report["uis"] if each["template"] == "map/places.html")
    assert mine["uri"].startswith("ui://app/") and mine["size"] == len(MAP_PAGE.encode())
    assert mine["csp"]["connect_domains"] == ["https://geo.example.org"]
    out = runner.invoke(args=["check", "--directory"]).output
    assert "UI CSP domains       https://geo.example.org https://tiles.example.org" in out
    assert (
        "; CSP: connect_domains https://geo.example.org; resource_domains https://tiles.example.org"
        in out
    )


def test_a_wildcard_ui_domain_fails(app, runner, reviewer, tmp_path):
    ui = OperationUi("map/places.html", resource_domains=("https://*.example.org",))
    ui_operation(app, tmp_path, ui, MAP_PAGE)
    code, report = check(runner)
    assert code == 1
    message = errors(report)["directory.ui.csp"]
    assert "https://*.example.org is a wildcard" in message and "list each host" in message


def test_a_ui_that_cannot_be_rendered_fails_with_how_to_find_out(app, runner, reviewer, tmp_path):
    ui_operation(app, tmp_path, OperationUi("map/missing.html"))
    code, report = check(runner)
    assert code == 1
    message = errors(report)["directory.ui"]
    assert "cannot be rendered (map/missing.html)" in message
    assert "flask --app plugin check" in message
