"""Discovery, RFC 8707 audiences, RFC 9207 ``iss`` and the resource guard's challenges."""

from __future__ import annotations

import pytest

from plugin.oauth.scopes import scopes
from tests.helpers import make_token
from tests.oauth.oauth_helpers import authorize_url, callback_params, pkce_pair

MCP = "http://localhost/mcp"
PRM = "http://localhost/.well-known/oauth-protected-resource/mcp"


def call_mcp(client, token: str | None, method: str = "tools/list", params: dict | None = None):
    """One legacy-era JSON-RPC request to the real /mcp."""
    headers = {"Accept": "application/json, text/event-stream"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}
    return client.post("/mcp", json=body, headers=headers)


@pytest.fixture
def public_client(app):
    from plugin.extensions import db
    from plugin.oauth.clients.manage import create_client

    class Public:
        redirect_uri = "https://claude.ai/api/mcp/auth_callback"

    with app.app_context():
        row, _ = create_client("Claude", [Public.redirect_uri], public=True)
        db.session.commit()
        Public.client_id = row.client_id
        Public.client_secret = None
    return Public


def run_flow(signed_in, client, creds, resource=None, scope="todos:read todos:write"):
    verifier, challenge = pkce_pair()
    url = authorize_url(
        creds,
        code_challenge=challenge,
        code_challenge_method="S256",
        resource=resource,
        scope=scope,
    )
    first = signed_in.get(url)
    if first.status_code == 200:
        from tests.oauth.oauth_helpers import allow

        first = allow(signed_in, url)
    params = callback_params(first)
    assert params["iss"] == "http://localhost"
    body = {
        "grant_type": "authorization_code",
        "code": params["code"],
        "redirect_uri": creds.redirect_uri,
        "client_id": creds.client_id,
        "code_verifier": verifier,
    }
    if resource:
        body["resource"] = resource
    return client.post("/oauth/token", data=body)


def test_authorization_server_metadata_advertises_what_mcp_clients_need(client):
    document = client.get("/.well-known/oauth-authorization-server").json
    assert document["issuer"] == "http://localhost"
    assert document["registration_endpoint"] == "http://localhost/oauth/register"
    assert document["client_id_metadata_document_supported"] is True
    assert document["authorization_response_iss_parameter_supported"] is True
    assert "none" in document["token_endpoint_auth_methods_supported"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    # No half-valid OpenID document: this server issues no ID tokens.
    assert client.get("/.well-known/openid-configuration").status_code == 404


@pytest.mark.parametrize(
    "path", ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]
)
def test_protected_resource_metadata_names_the_canonical_mcp_url(client, path):
    document = client.get(path).json
    assert document["resource"] == MCP
    assert document["authorization_servers"] == ["http://localhost"]
    assert document["bearer_methods_supported"] == ["header"]
    assert "todos:read" in document["scopes_supported"]


@pytest.fixture
def configured(app_config):
    app_config.update(PLUGIN_BASE_URL="https://todo.example/", OAUTH_DCR_ENABLED="false")
    return app_config


def test_base_url_decides_the_resource_and_switches_hide_registration(configured, client):
    assert client.get("/.well-known/oauth-protected-resource/mcp").json["resource"] == (
        "https://todo.example/mcp"
    )
    assert "registration_endpoint" not in client.get("/.well-known/oauth-authorization-server").json
    assert (
        client.post("/oauth/register", json={"redirect_uris": ["https://a.example/cb"]}).status_code
        == 404
    )


def test_mcp_without_a_token_gets_the_challenge(app, client):
    response = call_mcp(client, None)
    assert response.status_code == 401
    header = response.headers["WWW-Authenticate"]
    assert header.startswith("Bearer ")
    # Nothing in particular was called: the client is told every scope there is to ask for.
    every_scope = " ".join(scopes(app))
    assert f'resource_metadata="{PRM}"' in header and f'scope="{every_scope}"' in header
    assert "error=" not in header  # no token, no error code (RFC 6750 §3.1)


def test_token_in_query_string_is_never_read(app, client, user, oauth_client):
    token = make_token(app, user, oauth_client)["access_token"]
    assert client.post(f"/mcp?access_token={token}").status_code == 401


def test_api_token_is_refused_at_mcp_and_mcp_token_at_api(app, client, user, oauth_client):
    api_token = make_token(app, user, oauth_client)["access_token"]
    refused = call_mcp(client, api_token)
    assert refused.status_code == 401 and "another resource" in refused.json["error_description"]

    from plugin.accounts.models import User
    from plugin.extensions import db
    from plugin.oauth.models import OAuthClient
    from plugin.oauth.tokens.issue import issue_tokens

    with app.test_request_context():
        body = issue_tokens(
            db.session.get(OAuthClient, oauth_client.id),
            db.session.get(User, user.id),
            "todos:read",
            resource=MCP,
        )
        db.session.commit()
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    me = call_mcp(client, body["access_token"], "tools/call", {"name": "getMe", "arguments": {}})
    assert me.json["result"]["structuredContent"]["email"] == user.email
    api = client.get("/api/todos", headers=headers)
    assert api.status_code == 401
    assert (
        'resource_metadata="http://localhost/.well-known/oauth-protected-resource/api"'
        in (api.headers["WWW-Authenticate"])
    )
    events = client.application.test_cli_runner().invoke(args=["audit", "tail", "--json"])
    assert events.output.count("token.audience_refused") == 2


def test_missing_scope_is_403_naming_every_needed_scope(app, client, user, oauth_client):
    from plugin.accounts.models import User
    from plugin.extensions import db
    from plugin.oauth.models import OAuthClient
    from plugin.oauth.tokens.issue import issue_tokens

    with app.test_request_context():
        body = issue_tokens(
            db.session.get(OAuthClient, oauth_client.id),
            db.session.get(User, user.id),
            "todos:read",
            resource=MCP,
        )
        db.session.commit()
    create = {"name": "createTodo", "arguments": {"title": "x"}}
    response = call_mcp(client, body["access_token"], "tools/call", create)
    assert response.status_code == 403
    assert response.json["error"] == "insufficient_scope"
    assert 'scope="todos:write"' in response.headers["WWW-Authenticate"]


def test_resource_flows_from_authorize_through_refresh(signed_in, client, public_client):
    response = run_flow(signed_in, client, public_client, resource=MCP + "/")  # slash tolerated
    assert response.status_code == 200, response.json
    tokens = response.json
    assert call_mcp(client, tokens["access_token"]).status_code == 200
    refreshed = client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": public_client.client_id,
            "resource": MCP,
        },
    )
    assert refreshed.status_code == 200, refreshed.json
    new = refreshed.json["access_token"]
    assert call_mcp(client, new).status_code == 200
    assert client.get("/api/todos", headers={"Authorization": f"Bearer {new}"}).status_code == 401


def test_refresh_cannot_switch_resource(signed_in, client, public_client):
    tokens = run_flow(signed_in, client, public_client, resource=MCP).json
    response = client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": public_client.client_id,
            "resource": "http://localhost/api",
        },
    )
    assert response.status_code == 400 and response.json["error"] == "invalid_target"


def test_without_resource_tokens_work_at_api_as_before(signed_in, client, public_client):
    tokens = run_flow(signed_in, client, public_client).json
    assert (
        client.get(
            "/api/todos", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        ).status_code
        == 200
    )


@pytest.mark.parametrize(
    "resource",
    ["https://evil.example/mcp", "http://localhost/mcp/x", "not a url", "http://localhost/mcp#f"],
)
def test_unknown_resource_is_invalid_target_at_the_redirect_with_iss(
    signed_in, public_client, resource
):
    verifier, challenge = pkce_pair()
    url = authorize_url(
        public_client, code_challenge=challenge, code_challenge_method="S256", resource=resource
    )
    params = callback_params(signed_in.get(url))
    assert params["error"] == "invalid_target" and params["state"] == "xyz"
    assert params["iss"] == "http://localhost"


def test_token_request_naming_another_resource_is_invalid_target(signed_in, client, public_client):
    verifier, challenge = pkce_pair()
    url = authorize_url(
        public_client, code_challenge=challenge, code_challenge_method="S256", resource=MCP
    )
    from tests.oauth.oauth_helpers import allow

    params = callback_params(allow(signed_in, url))
    response = client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": public_client.redirect_uri,
            "client_id": public_client.client_id,
            "code_verifier": verifier,
            "resource": "https://evil.example/",
        },
    )
    assert response.status_code == 400 and response.json["error"] == "invalid_target"


def test_reconnecting_without_scope_grants_the_default_scopes(
    app, signed_in, client, public_client
):
    tokens = run_flow(signed_in, client, public_client, scope=None).json
    # A client registered without scopes gets every scope the app has.
    assert tokens["scope"] == " ".join(scopes(app))
