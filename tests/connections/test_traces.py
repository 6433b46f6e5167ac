"""Each failure class an install meets, produced by real requests, traced with its reason and
fix; and the successful install traced from the first request to the first API call."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from tests.helpers import REDIRECT_URI, make_token
from tests.oauth.oauth_helpers import allow, authorize_url, basic, callback_params, pkce_pair

MCP_LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
GPT_CALLBACK = "https://chatgpt.com/aip/g-123/oauth/callback"


def only(traces) -> dict:
    found = traces()
    assert len(found) == 1, [trace["steps"] for trace in found]
    return found[0]


def steps(trace: dict) -> list[tuple[str, bool]]:
    return [(step["step"], step["ok"]) for step in trace["steps"]]


def test_an_install_is_one_trace_from_authorize_to_the_first_api_call(
    client, user, oauth_client, traces
):
    from tests.helpers import AuthActions

    url = authorize_url(oauth_client)
    assert client.get(url).status_code == 302  # to the login page
    assert AuthActions(client).login(user.email, next=url).status_code == 303
    code = callback_params(allow(client, url))["code"]
    body = client.post(
        "/oauth/token",
        json={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": oauth_client.redirect_uri,
            "client_id": oauth_client.client_id,
            "client_secret": oauth_client.client_secret,
        },
    ).json
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert client.get("/api/me", headers=headers).status_code == 200
    assert client.get("/api/me", headers=headers).status_code == 200

    trace = only(traces)
    assert trace["outcome"] == "connected"
    assert trace["client_name"] == "ChatGPT" and trace["user"] == user.email
    assert steps(trace) == [
        ("authorization request", True),
        ("sign-in", True),
        ("authorization request", True),
        ("authorization code", True),
        ("token exchange", True),
        ("API call", True),
    ]
    assert trace["failed_step"] is None


def test_an_unregistered_redirect_uri_names_the_registered_ones(signed_in, oauth_client, traces):
    response = signed_in.get(authorize_url(oauth_client, redirect_uri=GPT_CALLBACK))
    assert response.status_code == 400

    trace = only(traces)
    assert trace["outcome"] == "failed" and trace["failed_step"] == "authorization request"
    assert trace["reason"] == (
        f"redirect_uri `{GPT_CALLBACK}` is not registered for this client; registered: "
        f"`{REDIRECT_URI}` (ChatGPT shows a new callback URL when the GPT or plugin changes: "
        f"the registered one is `{REDIRECT_URI}`)"
    )
    assert f"Add `{GPT_CALLBACK}` exactly" in trace["fix"]
    assert "Admin → Clients → ChatGPT" in trace["fix"]


def test_a_trailing_slash_is_pointed_out(signed_in, oauth_client, traces):
    signed_in.get(authorize_url(oauth_client, redirect_uri=REDIRECT_URI + "/"))
    assert "only by a trailing slash" in only(traces)["reason"]


def test_an_unknown_client_is_traced(signed_in, traces):
    class Nobody:
        client_id = "no-such-client"
        redirect_uri = REDIRECT_URI

    assert signed_in.get(authorize_url(Nobody)).status_code == 400
    trace = only(traces)
    assert trace["client_id"] == "no-such-client"
    assert "is not a client of this server" in trace["reason"]


def test_a_denied_consent_is_the_failed_step(signed_in, oauth_client, traces):
    url = authorize_url(oauth_client)
    assert callback_params(allow(signed_in, url, "deny"))["error"] == "access_denied"
    trace = only(traces)
    assert trace["failed_step"] == "consent"
    assert "pressed Deny" in trace["reason"]


def test_a_wrong_secret_by_basic_continues_the_authorizations_trace(
    client, get_code, oauth_client, traces
):
    code = get_code()
    response = client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": oauth_client.redirect_uri,
            "client_secret": oauth_client.client_secret,
        },
        headers=basic(oauth_client.client_id, "not-the-secret"),
    )
    assert response.status_code == 401
    # The client hears one terse answer for every cause; the operator reads the cause.
    assert "Basic" not in response.json["error_description"]

    trace = only(traces)
    assert steps(trace)[-2:] == [("authorization code", True), ("token exchange", False)]
    assert trace["reason"] == (
        "the client sent its secret by HTTP Basic but it does not match this client's (the "
        "client_secret in the body is not tried when a Basic header is sent)"
    )
    assert "Rotate" in trace["fix"] or "rotate" in trace["fix"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"client_secret": None}, "sent no client secret"),
        ({"client_secret": "wrong"}, "client_secret in the POST body does not match"),
        ({"client_id": "someone-else"}, "`someone-else` is not a client of this server"),
        ({"client_id": None, "client_secret": None}, "carried no client credentials"),
        ({"redirect_uri": REDIRECT_URI + "/x"}, "differs from the authorization request's"),
    ],
)
def test_token_request_failures_say_why(get_code, exchange, traces, body, words):
    response = exchange(get_code(), **body)
    assert response.status_code in (400, 401)
    trace = only(traces)
    assert trace["failed_step"] == "token exchange"
    assert words in trace["reason"], trace["reason"]


def test_a_malformed_basic_header_is_named(client, get_code, oauth_client, traces):
    client.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": get_code()},
        headers={"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
    )
    assert "not valid HTTP Basic" in only(traces)["reason"]


def test_a_reused_code_is_traced(get_code, exchange, traces):
    code = get_code()
    assert exchange(code).status_code == 200
    assert exchange(code).status_code == 400
    trace = only(traces)
    assert trace["failed_step"] == "token exchange"
    assert "already exchanged" in trace["reason"]


def test_an_expired_code_is_traced(app, get_code, exchange, traces):
    from plugin.extensions import db
    from plugin.oauth.models import AuthorizationCode

    code = get_code()
    with app.app_context():
        for row in db.session.scalars(db.select(AuthorizationCode)):
            row.expires_at -= timedelta(hours=1)
        db.session.commit()
    assert exchange(code).status_code == 400
    assert "the code expired at" in only(traces)["reason"]


def test_a_public_client_without_pkce_is_told_to_use_it(app, signed_in, traces):
    from plugin.extensions import db
    from plugin.oauth.clients.manage import create_client

    with app.app_context():
        row, _ = create_client("Claude", [REDIRECT_URI], public=True)
        db.session.commit()

        class Public:
            client_id = row.client_id
            redirect_uri = REDIRECT_URI

    signed_in.get(authorize_url(Public))
    trace = only(traces)
    assert "code_challenge" in trace["reason"] and "is public" in trace["reason"]
    assert "confidential client" in trace["fix"]


def test_an_api_token_presented_at_mcp_names_both(client, tokens, traces):
    response = client.post(
        "/mcp", json=MCP_LIST, headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert response.status_code == 401
    trace = only(traces)
    assert trace["failed_step"] == "MCP call"
    assert trace["reason"] == "the token was issued for `/api` and presented at `/mcp`"
    assert "MCP server URL http://localhost/mcp" in trace["fix"]


def test_an_mcp_token_presented_at_the_api_names_both(app, client, user, oauth_client, traces):
    body = make_token(app, user, oauth_client, resource="http://localhost/mcp")
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert client.get("/api/me", headers=headers).status_code == 401
    trace = only(traces)
    assert trace["reason"] == "the token was issued for `/mcp` and presented at `/api`"
    assert trace["user"] == user.email


def test_a_missing_scope_names_the_scope(app, client, user, oauth_client, traces):
    body = make_token(app, user, oauth_client, scope="todos:read")
    response = client.post(
        "/api/todos",
        json={"title": "x"},
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )
    assert response.status_code == 403
    reason = only(traces)["reason"]
    assert reason == "the token has the scopes `todos:read`; this call needs `todos:write`"


def test_an_expired_token_is_traced_and_repeats_are_counted(
    app, client, user, oauth_client, traces
):
    from plugin.extensions import db
    from plugin.oauth.models import OAuthToken

    body = make_token(app, user, oauth_client)
    with app.app_context():
        row = db.session.scalar(db.select(OAuthToken))
        row.access_expires_at -= timedelta(days=1)
        db.session.commit()
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    for _ in range(3):
        assert client.get("/api/me", headers=headers).status_code == 401
    trace = only(traces)
    assert "expired at" in trace["reason"]
    assert len(trace["steps"]) == 1 and trace["steps"][0]["repeats"] == 3


def test_a_replayed_refresh_token_is_traced(client, oauth_client, tokens, traces):
    from tests.oauth.oauth_helpers import refresh

    assert refresh(client, oauth_client, tokens["refresh_token"]).status_code == 200
    assert refresh(client, oauth_client, tokens["refresh_token"]).status_code == 400
    failed = [trace for trace in traces() if trace["outcome"] == "failed"]
    assert len(failed) == 1
    assert failed[0]["failed_step"] == "token refresh"
    assert "already used" in failed[0]["reason"]


def test_a_refused_registration_and_a_registration_joined_by_its_authorization(
    client, signed_in, traces
):
    refused = client.post("/oauth/register", json={"redirect_uris": ["http://evil.example/cb"]})
    assert refused.status_code == 400
    (trace,) = traces()
    assert trace["failed_step"] == "registration"
    assert "must use https" in trace["reason"]

    made = client.post(
        "/oauth/register",
        json={
            "client_name": "Claude",
            "redirect_uris": ["https://claude.ai/api/mcp/auth_callback"],
        },
    ).json
    _, challenge = pkce_pair()

    class Registered:
        client_id = made["client_id"]
        redirect_uri = "https://claude.ai/api/mcp/auth_callback"

    page = signed_in.get(
        authorize_url(Registered, code_challenge=challenge, code_challenge_method="S256")
    )
    assert page.status_code == 200
    joined = traces()[0]
    assert joined["client_id"] == made["client_id"]
    assert steps(joined) == [("registration", True), ("authorization request", True)]
