"""Admin → Connections and `flask connections tail`: an operator finds the failed step and
its fix from either one alone."""

from __future__ import annotations

import json

from tests.helpers import make_user
from tests.oauth.oauth_helpers import authorize_url

GPT_CALLBACK = "https://chatgpt.com/aip/g-123/oauth/callback"


def fail_an_install(client, oauth_client) -> None:
    """A person signs in and ChatGPT sends a callback the client does not have."""
    from tests.helpers import AuthActions

    make_user(client.application, "ann@example.com")
    AuthActions(client).login("ann@example.com")
    assert client.get(authorize_url(oauth_client, redirect_uri=GPT_CALLBACK)).status_code == 400
    AuthActions(client).logout()


def test_the_page_lists_a_failed_attempt_with_its_step_and_fix(app, oauth_client, admin_user):
    from tests.helpers import AuthActions

    http = app.test_client()
    fail_an_install(http, oauth_client)
    AuthActions(http).login(admin_user.email)
    html = http.get("/admin/connections").get_data(as_text=True)
    assert "Failed" in html and "authorization request:" in html
    assert f"redirect_uri `{GPT_CALLBACK}` is not registered" in html
    assert "Fix: Add" in html
    assert " UTC</time>" in html
    # The client's page links to its traces and counts the failures.
    client_page = http.get(f"/admin/clients/{oauth_client.id}").get_data(as_text=True)
    assert f'href="/admin/connections?client={oauth_client.client_id}"' in client_page
    assert "1 failed" in client_page
    # The trace page shows the steps and what broke.
    from plugin.connections.queries import query_traces

    with app.app_context():
        trace_id = query_traces()[0].id
    detail = http.get(f"/admin/connections/{trace_id}").get_data(as_text=True)
    assert "What broke: authorization request" in detail and "What to change:" in detail
    assert http.get("/admin/connections/999999").status_code == 404


def test_filters_by_client_person_and_outcome(app, admin, oauth_client, client):
    fail_an_install(app.test_client(), oauth_client)

    def rows(query: str) -> int:
        html = admin.get(f"/admin/connections?{query}").get_data(as_text=True)
        return max(0, html.count("<tr>") - 1)  # less the header row

    assert rows("") == 1
    assert rows("outcome=failed") == 1
    assert rows("outcome=connected") == 0
    assert rows(f"client={oauth_client.client_id}") == 1
    assert rows("client=chatg") == 1
    assert rows("client=other") == 0
    assert rows("outcome=bogus") == 0  # refused choice
    assert admin.get("/admin/connections?outcome=bogus").status_code == 400


def test_the_page_is_for_admins_only(client, user, auth):
    assert client.get("/admin/connections").status_code in (302, 303)
    auth.login(user.email)
    assert client.get("/admin/connections").status_code == 403


def test_tail_prints_the_failed_step_and_the_fix(app, runner, oauth_client):
    fail_an_install(app.test_client(), oauth_client)
    result = runner.invoke(args=["connections", "tail", "--failed"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("✘ #") and "failed  ChatGPT" in lines[0]
    assert "ann@example.com" in lines[0]
    assert any(line.strip().startswith("✘") and GPT_CALLBACK in line for line in lines)
    assert any(line.strip().startswith("fix: Add") for line in lines)


def test_tail_as_json_and_filters(app, runner, oauth_client):
    fail_an_install(app.test_client(), oauth_client)
    result = runner.invoke(args=["connections", "tail", "--json", "--client", "ChatGPT"])
    (trace,) = json.loads(result.output)
    assert trace["outcome"] == "failed" and trace["failed_step"] == "authorization request"
    assert trace["fix"].startswith("Add `")
    assert trace["steps"][-1]["ok"] is False
    empty = runner.invoke(args=["connections", "tail", "--person", "nobody@example.com"])
    assert empty.output.strip() == "No connection attempts yet."
    assert runner.invoke(
        args=["connections", "tail", "--failed", "--person", "zzz"]
    ).output.strip() == ("No failed connections.")


def test_tail_shows_control_characters_in_a_client_name_instead_of_obeying_them(
    app, runner, oauth_client
):
    from plugin.connections.models import ConnectionTrace
    from plugin.extensions import db

    fail_an_install(app.test_client(), oauth_client)
    with app.app_context():
        db.session.execute(
            db.update(ConnectionTrace).values(client_name="Chat\x1b[2J\x1b]0;pwned\x07GPT")
        )
        db.session.commit()
    result = runner.invoke(args=["connections", "tail"])
    assert result.exit_code == 0, result.output
    for raw in ("\x1b", "\x07"):
        assert raw not in result.output
    assert "Chat\\x1b[2J\\x1b]0;pwned\\x07GPT" in result.output


def test_tail_shows_attacker_chosen_text_escaped(app, runner):
    forged = "abc\n✔ #999 2026-01-01 00:00:00 UTC  connected  ChatGPT\x1b[2J\x1b]0;owned\x07"
    http = app.test_client()
    http.get("/oauth/authorize", query_string={"response_type": "code", "client_id": forged})
    result = runner.invoke(args=["connections", "tail"])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert not any(line.startswith("✔ #999") for line in result.output.splitlines())
    assert "abc\\n✔ #999" in result.output and "\\x1b[2J" in result.output
