"""A code the client never exchanges: the trace stops saying "pending" and names the likely
cause for the kind of client (a desktop app's loopback callback the browser never reached)."""

from __future__ import annotations

import json

from tests.connections.trace_helpers import wait
from tests.helpers import REDIRECT_URI, make_oauth_client
from tests.oauth.connector_helpers import desktop_authorize_query, register_desktop_app
from tests.oauth.oauth_helpers import allow, authorize_url, callback_params


def desktop_code(signed_in) -> str:
    client_id = register_desktop_app(signed_in, "http://127.0.0.1:3000/callback")
    query, _verifier = desktop_authorize_query(client_id, "http://127.0.0.1:49152/callback")
    return callback_params(allow(signed_in, "/oauth/authorize?" + query))["code"]


def test_a_fresh_code_is_still_pending(signed_in, traces):
    desktop_code(signed_in)
    (trace,) = traces()
    assert trace["outcome"] == "pending" and trace["failed_step"] is None


def test_a_desktop_clients_code_never_exchanged_is_the_failure(app, signed_in, traces):
    desktop_code(signed_in)
    wait(app, 3)
    (trace,) = traces()
    assert trace["outcome"] == "failed" and trace["failed_step"] == "authorization code"
    assert trace["reason"].startswith("code sent, never exchanged: sent to http://127.0.0.1:49152")
    assert "desktop client waiting on 127.0.0.1:49152" in trace["fix"]
    assert "browser could not reach that loopback callback" in trace["fix"]
    assert trace["steps"][-1]["ok"] is False


def test_a_web_clients_code_never_exchanged_names_its_callback(app, signed_in, traces):
    web = make_oauth_client(app)
    callback_params(allow(signed_in, authorize_url(web)))
    wait(app, 3)
    (trace,) = traces()
    assert trace["outcome"] == "failed"
    assert "web client: its callback at chat.openai.com" in trace["fix"]
    assert REDIRECT_URI in trace["reason"]


def test_an_exchanged_code_is_never_the_failure_however_long_ago(app, client, signed_in, traces):
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
    wait(app, 60)
    (trace,) = traces()
    # What stalled is the first call (tests/connections/test_unused_tokens.py), not the code.
    assert trace["failed_step"] == "API call"
    assert all("never exchanged" not in (step["reason"] or "") for step in trace["steps"])


def test_tail_and_the_admin_page_show_it_among_the_failed(app, runner, signed_in, admin_user):
    from tests.helpers import AuthActions

    desktop_code(signed_in)
    wait(app, 3)
    result = runner.invoke(args=["connections", "tail", "--failed"])
    lines = result.output.splitlines()
    assert lines[0].startswith("✘ #") and "failed  Desk Agent" in lines[0]
    assert any("code sent, never exchanged" in line for line in lines)
    assert any(line.strip().startswith("fix: Desk Agent is a desktop client") for line in lines)
    pending = runner.invoke(args=["connections", "tail", "--json"])
    assert json.loads(pending.output)[0]["outcome"] == "failed"

    admin = app.test_client()
    AuthActions(admin).login(admin_user.email)
    page = admin.get("/admin/connections?outcome=failed").get_data(as_text=True)
    assert "code sent, never exchanged" in page and "Failed" in page
    assert "never exchanged" not in admin.get("/admin/connections?outcome=pending").get_data(
        as_text=True
    )
