"""`flask check`: passes on this app, fails with one line per problem on a broken plugin."""

from __future__ import annotations

import json

from flask import Flask, jsonify

from tests.helpers import serving


def test_passes_in_process(runner):
    result = runner.invoke(args=["check"])
    assert result.exit_code == 0, result.output
    assert "No problems found" in result.output
    # Served on http://localhost: one warning line, not one per URL.
    assert result.output.count("warning:") == 1


def test_passes_over_http_against_the_running_app(app, runner):
    with serving(app) as base:
        result = runner.invoke(args=["check", base, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] is True
    # Nothing refused: warnings, and the UI's measured size (info).
    assert {finding["severity"] for finding in report["findings"]} == {"warning", "info"}


def test_https_base_url_has_nothing_to_report(app, runner):
    app.config["PLUGIN_BASE_URL"] = "https://todo.example.com"
    result = runner.invoke(args=["check"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    # Only the UI's measured size is told (plugin/mcp/ui_check.py), as information.
    assert [line for line in lines if not line.startswith("info: mcp.ui[")] == [
        "No problems found in https://todo.example.com/.well-known/ai-plugin.json."
    ]


def test_fails_when_configuration_breaks_a_limit(app, runner):
    app.config["PLUGIN_NAME_FOR_HUMAN"] = "A name far too long for ChatGPT"
    app.config["PLUGIN_NAME_FOR_MODEL"] = "todo plugin"
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert "error: manifest.name_for_human: must be 1 to 20 characters" in lines
    assert "error: manifest.name_for_model: must be 1 to 50 letters, digits or underscores" in lines
    assert lines[-1].startswith("2 problem(s)")


def broken_plugin() -> Flask:
    broken = Flask("broken")

    @broken.get("/.well-known/ai-plugin.json")
    def manifest():
        return jsonify(
            schema_version="v1",
            name_for_human="Broken",
            name_for_model="broken",
            description_for_human="x" * 101,
            description_for_model="Use it.",
            auth={"type": "none"},
            api={
                "type": "openapi",
                "url": "http://127.0.0.1:1/spec.json",
                "is_user_authenticated": False,
            },
            logo_url="https://cdn.other-site.com/logo.gif",
            contact_email="help@example.com",
            legal_info_url="/legal",
        )

    return broken


def test_fails_on_a_broken_manifest_and_document(runner):
    broken = broken_plugin()
    document = {
        "openapi": "3.0.1",
        "info": {"title": "Broken", "version": "1"},
        "paths": {
            "/things": {
                "get": {"summary": "s" * 301, "responses": {"200": {"description": "ok"}}},
                "post": {
                    "operationId": "makeThing",
                    "summary": "Make a thing.",
                    "parameters": [
                        {
                            "name": "kind",
                            "in": "query",
                            "description": "d" * 701,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {"201": {"description": "made"}},
                    "x-openai-isConsequential": True,
                },
            }
        },
    }

    @broken.get("/spec.json")
    def spec():
        return jsonify(document)

    with serving(broken) as base:
        # The manifest names its document by URL; point it at this server.
        broken.view_functions["manifest"] = _with_api_url(
            broken.view_functions["manifest"], base + "/spec.json"
        )
        result = runner.invoke(args=["check", base])
    assert result.exit_code == 1, result.output
    output = result.output
    for expected in (
        "error: manifest.description_for_human: must be 1 to 100 characters",
        'error: manifest.auth.type: must be "oauth"',
        "error: manifest.auth.authorization_content_type:",
        "error: manifest.auth.client_url: is required",
        "error: manifest.legal_info_url: must be an absolute URL",
        "error: manifest.logo_url: is not on the plugin's domain 127.0.0.1",
        "error: manifest.logo_url: must not be a GIF",
        "error: openapi.servers: must name the server",
        "error: GET /things: has no operationId",
        "error: GET /things: summary is 301 characters; at most 300",
        "error: GET /things: has no x-openai-isConsequential",
        "error: POST /things: parameter kind description is 701 characters; at most 700",
    ):
        assert expected in output, expected
    assert output.splitlines()[-1].endswith(
        "ChatGPT would refuse in " + base + "/.well-known/ai-plugin.json."
    )


def _with_api_url(view, url):
    def patched():
        response = view()
        body = response.get_json()
        body["api"]["url"] = url
        return jsonify(body)

    return patched


def test_an_invalid_openapi_document_is_reported(runner):
    broken = broken_plugin()

    @broken.get("/spec.json")
    def spec():
        return jsonify({"openapi": "3.0.1", "paths": {}})

    with serving(broken) as base:
        broken.view_functions["manifest"] = _with_api_url(
            broken.view_functions["manifest"], base + "/spec.json"
        )
        result = runner.invoke(args=["check", base])
    assert result.exit_code == 1
    assert (
        'error: openapi: is not a valid OpenAPI document: "info" is a required property'
        in result.output
    )


def test_an_unreachable_server_is_one_clear_line(runner):
    with serving(Flask("empty")) as base:
        pass  # the port is closed again
    result = runner.invoke(args=["check", base])
    assert result.exit_code == 1
    assert result.output.startswith("Error: Could not fetch " + base)
    assert "Traceback" not in result.output


def test_a_missing_manifest_is_reported(runner):
    with serving(Flask("empty")) as base:
        result = runner.invoke(args=["check", base])
    assert result.exit_code == 1
    assert f"{base}/.well-known/ai-plugin.json answered 404" in result.output
