"""Revocation (RFC 7009), introspection (RFC 7662) and metadata (RFC 8414)."""

from __future__ import annotations

from tests.helpers import make_oauth_client
from tests.oauth.oauth_helpers import basic, refresh


def introspect(client, creds, token: str, **extra):
    return client.post(
        "/oauth/introspect",
        data={"token": token, **extra},
        headers=basic(creds.client_id, creds.client_secret),
    )


def revoke(client, creds, token: str, **extra):
    return client.post(
        "/oauth/revoke",
        data={"token": token, **extra},
        headers=basic(creds.client_id, creds.client_secret),
    )


def test_introspection_describes_an_active_access_token(client, oauth_client, tokens, user):
    body = introspect(client, oauth_client, tokens["access_token"]).json
    assert body["active"] is True
    assert body["client_id"] == oauth_client.client_id
    assert body["scope"] == tokens["scope"]
    assert body["username"] == user.email
    assert body["exp"] > body["iat"]


def test_introspection_of_a_refresh_token(client, oauth_client, tokens):
    body = introspect(
        client, oauth_client, tokens["refresh_token"], token_type_hint="refresh_token"
    ).json
    assert body["active"] is True and body["token_type"] == "refresh_token"


def test_introspection_says_inactive_for_unknown_and_foreign_tokens(
    app, client, oauth_client, tokens
):
    assert introspect(client, oauth_client, "nope").json == {"active": False}
    other = make_oauth_client(app, name="Other")
    assert introspect(client, other, tokens["access_token"]).json == {"active": False}


def test_introspection_requires_client_authentication(client, tokens):
    response = client.post("/oauth/introspect", data={"token": tokens["access_token"]})
    assert response.status_code == 401 and response.json["error"] == "invalid_client"


def test_revoking_an_access_token_ends_it(client, oauth_client, tokens):
    response = revoke(client, oauth_client, tokens["access_token"])
    assert response.status_code == 200
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/api/me", headers=headers).status_code == 401
    assert introspect(client, oauth_client, tokens["access_token"]).json == {"active": False}


def test_revoking_a_refresh_token_ends_the_whole_grant(client, oauth_client, tokens):
    assert (
        revoke(
            client, oauth_client, tokens["refresh_token"], token_type_hint="refresh_token"
        ).status_code
        == 200
    )
    assert refresh(client, oauth_client, tokens["refresh_token"]).status_code == 400
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/api/me", headers=headers).status_code == 401


def test_revoking_an_unknown_token_is_quietly_fine(client, oauth_client):
    assert revoke(client, oauth_client, "never-issued").status_code == 200


def test_revocation_with_a_bad_hint_is_refused(client, oauth_client, tokens):
    response = revoke(client, oauth_client, tokens["access_token"], token_type_hint="id_token")
    assert response.status_code == 400 and response.json["error"] == "unsupported_token_type"


def test_oa09_metadata_lists_exactly_what_is_supported(client):
    response = client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    meta = response.json
    assert meta["issuer"] == "http://localhost"
    assert meta["authorization_endpoint"] == "http://localhost/oauth/authorize"
    assert meta["token_endpoint"] == "http://localhost/oauth/token"
    assert meta["revocation_endpoint"] == "http://localhost/oauth/revoke"
    assert meta["introspection_endpoint"] == "http://localhost/oauth/introspect"
    assert meta["response_types_supported"] == ["code"]
    assert meta["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert set(meta["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
        "none",
    }
    assert {"todos:read", "todos:write"} <= set(meta["scopes_supported"])


def test_metadata_uses_the_configured_public_origin(app, client):
    app.config["PLUGIN_BASE_URL"] = "https://todo.example.com"
    meta = client.get("/.well-known/oauth-authorization-server").json
    assert meta["issuer"] == "https://todo.example.com"
    assert meta["token_endpoint"] == "https://todo.example.com/oauth/token"


def test_revoking_another_clients_token_answers_as_for_an_unknown_one(
    app, client, oauth_client, tokens
):
    other = make_oauth_client(app, name="Other")
    foreign = revoke(client, other, tokens["access_token"])
    unknown = revoke(client, other, "never-issued")
    assert (foreign.status_code, foreign.get_data()) == (unknown.status_code, unknown.get_data())
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/api/me", headers=headers).status_code == 200


def test_a_wrong_basic_secret_is_not_rescued_by_a_right_body_secret(client, oauth_client, tokens):
    response = client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": oauth_client.client_id,
            "client_secret": oauth_client.client_secret,
        },
        headers=basic(oauth_client.client_id, "wrong-secret"),
    )
    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"
