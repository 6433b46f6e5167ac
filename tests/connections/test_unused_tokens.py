"""Tokens issued but never used: the trace stops saying "pending", says no call arrived (a
proxy or CDN turning ChatGPT-User or Claude-User away), and the fix speaks to the kind of
client; ``check --connectors`` flags it too. Fix texts elsewhere name the client's kind."""

from __future__ import annotations

import pytest

from plugin.connections.models import NO_CALL
from tests.connections.trace_helpers import wait
from tests.helpers import make_oauth_client
from tests.oauth.connector_helpers import desktop_authorize_query, register_desktop_app
from tests.oauth.oauth_helpers import allow, callback_params

CLAUDE_CALLBACK = "https://claude.ai/api/mcp/auth_callback"


def desktop_tokens(client, signed_in) -> dict:
    redirect_uri = "http://127.0.0.1:3000/callback"
    client_id = register_desktop_app(signed_in, redirect_uri)
    query, verifier = desktop_authorize_query(client_id, redirect_uri)
    code = callback_params(allow(signed_in, "/oauth/authorize?" + query))["code"]
    answer = client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "code_verifier": verifier,
        },
    )
    assert answer.status_code == 200, answer.json
    return answer.json


def test_fresh_tokens_are_still_pending(client, signed_in, traces, app):
    desktop_tokens(client, signed_in)
    wait(app, 4)
    (trace,) = traces()
    assert trace["outcome"] == "pending" and trace["failed_step"] is None


def test_tokens_a_desktop_app_never_used_are_the_failure(client, signed_in, traces, app):
    desktop_tokens(client, signed_in)
    wait(app, 6)
    (trace,) = traces()
    assert trace["outcome"] == "failed" and trace["failed_step"] == "API call"
    assert trace["reason"].startswith(NO_CALL)
    assert "no API call used them within 5 minutes" in trace["reason"]
    assert "Desk Agent runs on the person's computer" in trace["fix"]
    assert trace["steps"][-1]["ok"] is False


def test_a_gpt_actions_unused_tokens_name_chatgpt_user(tokens, traces, app):
    wait(app, 6)
    (trace,) = traces()
    assert trace["failed_step"] == "API call" and trace["reason"].startswith(NO_CALL)
    assert "from OpenAI's servers with the user agent ChatGPT-User" in trace["fix"]


def test_a_call_ends_it_connected_however_long_ago(client, tokens, traces, app):
    answer = client.get("/api/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert answer.status_code == 200
    wait(app, 60)
    (trace,) = traces()
    assert trace["outcome"] == "connected" and trace["failed_step"] is None


def test_tail_and_check_connectors_flag_it(client, signed_in, runner, traces, app):
    desktop_tokens(client, signed_in)
    wait(app, 6)
    tail = runner.invoke(args=["connections", "tail", "--failed"]).output
    assert NO_CALL in tail
    result = runner.invoke(args=["check", "--connectors"])
    lines = result.output.splitlines()
    at = lines.index("Recent connections (flask connections tail)")
    flagged = lines[at + 1].strip()
    assert flagged.startswith(f"! #{traces()[0]['id']} Desk Agent: {NO_CALL}")
    assert lines[at + 2].strip().startswith("fix: Desk Agent runs on the person's computer")


def test_check_connectors_says_when_nothing_stalled(runner):
    lines = runner.invoke(args=["check", "--connectors"]).output.splitlines()
    at = lines.index("Recent connections (flask connections tail)")
    assert lines[at + 1].strip() == "✔ codes exchanged, tokens used: no kept connection stalled"


@pytest.mark.parametrize(
    ("redirect_uri", "words"),
    [
        ("https://chatgpt.com/aip/g-123/oauth/callback", "the GPT's OAuth settings in ChatGPT"),
        (CLAUDE_CALLBACK, "the connector's Advanced settings in Claude"),
        ("http://127.0.0.1:8765/callback", "Desk Tool's own configuration"),
        ("https://agents.example.com/callback", "Desk Tool's OAuth settings"),
    ],
)
def test_a_wrong_secret_fix_names_where_that_client_keeps_it(
    app, client, signed_in, traces, redirect_uri, words
):
    from urllib.parse import urlencode

    made = make_oauth_client(app, name="Desk Tool", redirect_uri=redirect_uri)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": made.client_id,
            "redirect_uri": redirect_uri,
            "scope": "todos:read",
            "state": "s",
        }
    )
    code = callback_params(allow(signed_in, "/oauth/authorize?" + query))["code"]
    answer = client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": made.client_id,
            "client_secret": "not-the-secret",
        },
    )
    assert answer.status_code == 401
    (trace,) = traces()
    assert trace["fix"].startswith(f"Paste the current client secret into {words}")
    if "chatgpt" not in redirect_uri:
        assert "GPT" not in trace["fix"]
