"""`flask check --connectors` against a running server (gunicorn), healthy and broken in each
way it names, and in-process for what needs no server."""

from __future__ import annotations

import json

from tests.helpers import make_oauth_client

GPT_CALLBACK = "https://chatgpt.com/aip/g-123/oauth/callback"


def run_check(runner, *args: str):
    result = runner.invoke(args=["check", "--connectors", *args])
    return result, result.output.splitlines()


def marked(lines: list[str], mark: str) -> list[str]:
    return [line.strip()[2:] for line in lines if line.strip().startswith(mark)]


def test_a_healthy_deployment_passes_every_step(app, runner, serve):
    make_oauth_client(app, redirect_uri=GPT_CALLBACK)
    base = serve().url
    result, lines = run_check(runner, base)
    assert result.exit_code == 0, result.output
    assert marked(lines, "✘") == []
    passed = " ".join(marked(lines, "✔"))
    for step in (
        "manifest and OpenAPI",
        "authorization-server metadata",
        "token endpoint",
        "redirect URIs of ChatGPT",
        "/mcp 401 challenge",
        "protected-resource metadata /.well-known/oauth-protected-resource/mcp",
        "OpenID probe",
        "metadata documents (CIMD)",
        "dynamic registration",
    ):
        assert step in passed, step
    # Plain http on this machine is a warning, not a failure.
    assert any("this machine over http" in line for line in marked(lines, "!"))
    assert lines[-1] == f"Every step ChatGPT and Claude take works at {base}."


def test_the_probes_leave_no_connection_trace(app, runner, serve):
    from plugin.connections.queries import query_traces

    run_check(runner, serve().url)
    with app.app_context():
        assert query_traces() == []


def test_a_wrong_public_origin_fails_discovery_with_the_fix(app, runner, serve):
    base = serve(PLUGIN_BASE_URL="https://todo.example.com").url
    result, lines = run_check(runner, base, "--json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    failed = {step["step"]: step for step in report["steps"] if step["mark"] == "✘"}
    assert (
        "issuer is 'https://todo.example.com'" in failed["authorization-server metadata"]["detail"]
    )
    assert "PLUGIN_BASE_URL" in failed["authorization-server metadata"]["fix"]
    assert any(name.startswith("protected-resource metadata") for name in failed)


def test_mcp_and_registration_switched_off_fail_for_connectors(runner, serve):
    base = serve(MCP_ENABLED="false").url
    result, lines = run_check(runner, base)
    assert result.exit_code == 1
    assert "/mcp 401 challenge: POST /mcp answered 404" in marked(lines, "✘")
    assert any("MCP_ENABLED is off" in line for line in lines)
    base = serve(OAUTH_DCR_ENABLED="false", OAUTH_CIMD_ENABLED="false").url
    result, lines = run_check(runner, base)
    assert result.exit_code == 1
    assert "dynamic registration: not offered (OAUTH_DCR_ENABLED)" in marked(lines, "✘")
    assert any("clients cannot register" in line for line in lines)


def test_a_gpt_action_client_without_a_chatgpt_callback_fails(app, runner):
    make_oauth_client(app, name="Team GPT", redirect_uri="https://example.com/callback")
    result, lines = run_check(runner)
    assert result.exit_code == 1
    (failure,) = marked(lines, "✘")
    assert failure.startswith("redirect URIs of Team GPT: none is a ChatGPT callback")
    assert any("no trailing slash" in line for line in lines)


def test_a_half_valid_openid_configuration_fails(app, runner):
    from flask import jsonify

    def half() -> object:
        return jsonify({"issuer": "http://localhost:5003"})

    app.add_url_rule("/.well-known/openid-configuration", "half_oidc", half)
    result, lines = run_check(runner)
    assert result.exit_code == 1
    (failure,) = [line for line in marked(lines, "✘") if line.startswith("OpenID probe")]
    assert "lacking authorization_endpoint, jwks_uri" in failure


def test_an_unreachable_deployment_fails_every_step(runner):
    result, lines = run_check(runner, "http://127.0.0.1:9")
    assert result.exit_code == 1
    assert (
        "manifest: http://127.0.0.1:9/.well-known/ai-plugin.json answered nothing (unreachable)"
        in marked(lines, "✘")
    )
    assert "Traceback" not in result.output
