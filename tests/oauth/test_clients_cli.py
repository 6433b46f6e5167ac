"""``flask clients …``: create, list, show, rotate-secret, disable, enable, delete."""

from __future__ import annotations

import json

import pytest

from plugin.oauth.scopes import scopes
from tests.oauth.oauth_helpers import basic, refresh

CALLBACK = "https://chatgpt.com/aip/g-abc123/oauth/callback"


def create(runner, *extra):
    return runner.invoke(
        args=["clients", "create", "--name", "ChatGPT", "--redirect-uri", CALLBACK, *extra]
    )


def test_create_prints_the_secret_once_with_json(app, runner):
    result = create(runner, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"client_id", "client_secret", "name", "redirect_uris", "scope"}
    assert data["redirect_uris"] == [CALLBACK]
    # No --scope: every scope the app offers.
    assert data["scope"] == " ".join(scopes(app))
    shown = runner.invoke(args=["clients", "show", data["client_id"], "--json"])
    assert data["client_secret"] not in shown.output
    listed = runner.invoke(args=["clients", "list", "--json"])
    assert data["client_secret"] not in listed.output
    assert json.loads(listed.output)[0]["client_id"] == data["client_id"]


def test_create_in_words_says_what_to_paste(runner):
    result = create(runner)
    assert result.exit_code == 0
    assert "client_secret:" in result.output and "Token URL:" in result.output


@pytest.mark.parametrize(
    "uri, message",
    [
        ("http://chatgpt.com/cb", "must use https"),
        ("https://chatgpt.com/cb#frag", "fragment"),
        ("chatgpt.com/cb", "absolute https"),
        ("https://user:pw@chatgpt.com/cb", "user name"),
        ("https://chatgpt.com:99999/cb", "not a valid URL"),
    ],
)
def test_oa03_bad_redirect_uris_are_refused_with_a_clear_line(runner, uri, message):
    result = runner.invoke(args=["clients", "create", "--name", "X", "--redirect-uri", uri])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert json.loads(runner.invoke(args=["clients", "list", "--json"]).output) == []


def test_loopback_http_is_allowed_for_development(runner):
    result = runner.invoke(
        args=["clients", "create", "--name", "Dev", "--redirect-uri", "http://127.0.0.1:5003/cb"]
    )
    assert result.exit_code == 0, result.output


def test_unknown_scope_is_refused(runner):
    result = create(runner, "--scope", "todos:read admin")
    assert result.exit_code != 0 and "Unknown scope 'admin'" in result.output


def test_unknown_client_id_is_one_clear_line(runner):
    for command in ("show", "rotate-secret", "disable", "enable", "delete"):
        result = runner.invoke(args=["clients", command, "nope"])
        assert result.exit_code != 0
        assert "No client with id 'nope'" in result.output


def test_rotate_disable_enable_delete_take_effect_on_the_token_endpoint(app, runner, client):
    data = json.loads(create(runner, "--json").output)
    client_id, old = data["client_id"], data["client_secret"]

    def auth_status(secret: str) -> int:
        return client.post(
            "/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": "x"},
            headers=basic(client_id, secret),
        ).status_code

    assert auth_status(old) == 400  # authenticated; the refresh token itself is bogus
    rotated = json.loads(
        runner.invoke(args=["clients", "rotate-secret", client_id, "--json"]).output
    )
    assert rotated["client_secret"] != old
    assert auth_status(old) == 401
    assert auth_status(rotated["client_secret"]) == 400

    assert runner.invoke(args=["clients", "disable", client_id]).exit_code == 0
    assert auth_status(rotated["client_secret"]) == 401
    assert runner.invoke(args=["clients", "enable", client_id]).exit_code == 0
    assert auth_status(rotated["client_secret"]) == 400
    result = runner.invoke(args=["clients", "delete", client_id])
    assert result.exit_code == 0 and "Deleted" in result.output
    assert auth_status(rotated["client_secret"]) == 401
    assert json.loads(runner.invoke(args=["clients", "list", "--json"]).output) == []


def test_delete_revokes_the_clients_tokens(runner, client, oauth_client, tokens):
    assert runner.invoke(args=["clients", "delete", oauth_client.client_id]).exit_code == 0
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/api/me", headers=headers).status_code == 401
    assert refresh(client, oauth_client, tokens["refresh_token"]).status_code == 401


def test_list_counts_active_grants(runner, oauth_client, tokens):
    rows = json.loads(runner.invoke(args=["clients", "list", "--json"]).output)
    assert rows[0]["active_grants"] == 1
    human = runner.invoke(args=["clients", "list"]).output
    assert "grants=1" in human and oauth_client.client_id in human


@pytest.mark.parametrize("name", ["Chat\x1b[2JGPT", "two\nlines", "nul\x00"])
def test_in03_a_client_name_with_a_control_character_is_one_clear_line(runner, name):
    result = runner.invoke(
        args=["clients", "create", "--name", name, "--redirect-uri", CALLBACK, "--json"]
    )
    assert result.exit_code != 0
    assert result.output.strip().splitlines() == [
        "Error: The client name must be one line without control characters."
    ]
    assert runner.invoke(args=["clients", "list", "--json"]).output.strip() == "[]"


def test_generated_client_ids_never_begin_with_a_dash():
    from plugin.oauth.clients.manage import new_client_id

    ids = {new_client_id() for _ in range(5000)}
    assert len(ids) == 5000
    # About one random id in 32 would begin with "-" or "_" without the rule.
    assert all(value[0].isalnum() for value in ids)
