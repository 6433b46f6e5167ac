"""RFC 7591 registration of public clients, pruning, and the refresh retry grace."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.oauth.oauth_helpers import allow, authorize_url, callback_params, pkce_pair

CLAUDE = {
    "client_name": "Claude",
    "redirect_uris": ["https://claude.ai/api/mcp/auth_callback"],
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "token_endpoint_auth_method": "none",
}


def register(client, metadata, **kwargs):
    return client.post("/oauth/register", json=metadata, **kwargs)


def test_registration_gives_a_public_client_without_secret(client):
    response = register(client, CLAUDE)
    assert response.status_code == 201
    body = response.json
    assert body["client_id"].startswith("dyn_") and "client_secret" not in body
    assert body["token_endpoint_auth_method"] == "none"
    assert body["redirect_uris"] == CLAUDE["redirect_uris"]
    assert response.headers["Cache-Control"] == "no-store"


def test_a_requested_secret_method_is_replaced_by_none(client):
    body = register(client, CLAUDE | {"token_endpoint_auth_method": "client_secret_post"}).json
    assert body["token_endpoint_auth_method"] == "none" and "client_secret" not in body


def test_identical_registrations_are_deduplicated(client, runner):
    first = register(client, CLAUDE).json["client_id"]
    assert register(client, CLAUDE).json["client_id"] == first
    other = register(
        client, CLAUDE | {"redirect_uris": ["https://claude.com/api/mcp/auth_callback"]}
    )
    assert other.json["client_id"] != first
    listed = json.loads(runner.invoke(args=["clients", "list", "--json"]).output)
    assert [row["kind"] for row in listed] == ["dynamic", "dynamic"]


@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        ({}, "invalid_redirect_uri"),
        ({"redirect_uris": ["http://claude.ai/cb"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["https://claude.ai/cb#f"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["javascript:alert(1)"]}, "invalid_redirect_uri"),
        ({"redirect_uris": "https://claude.ai/cb"}, "invalid_client_metadata"),
        (CLAUDE | {"grant_types": ["client_credentials"]}, "invalid_client_metadata"),
        (CLAUDE | {"grant_types": ["implicit"]}, "invalid_client_metadata"),
        (CLAUDE | {"response_types": ["token"]}, "invalid_client_metadata"),
        (CLAUDE | {"scope": "admin"}, "invalid_client_metadata"),
        (CLAUDE | {"client_name": "x" * 101}, "invalid_client_metadata"),
        # IN-03: the consent page shows the name; a line break could fake a second line.
        (CLAUDE | {"client_name": "Claude\nVerified by Anthropic"}, "invalid_client_metadata"),
        (CLAUDE | {"client_name": "Claude\x1b[2J"}, "invalid_client_metadata"),
    ],
)
def test_bad_metadata_is_refused(client, metadata, error):
    response = register(client, metadata)
    assert response.status_code == 400 and response.json["error"] == error


def test_a_body_that_is_not_json_is_refused(client):
    response = client.post("/oauth/register", data="redirect_uris=x")
    assert response.status_code == 400 and response.json["error"] == "invalid_client_metadata"


def test_loopback_redirects_are_allowed_for_desktop_clients(client):
    body = register(client, {"redirect_uris": ["http://127.0.0.1:3000/callback"]}).json
    assert body["client_name"] == "127.0.0.1"


def test_registration_is_rate_limited_per_address(app, client):
    app.config["REGISTRATION_RATE_LIMIT"] = "2 per hour"
    for index in range(2):
        assert register(client, CLAUDE | {"client_name": f"C{index}"}).status_code == 201
    assert register(client, CLAUDE).status_code == 429


def test_registration_is_audited(client, runner):
    register(client, CLAUDE)
    assert "client.registered" in runner.invoke(args=["audit", "tail", "--json"]).output


def test_prune_removes_unused_registrations_only(app, client, runner):
    from plugin.clock import utcnow
    from plugin.extensions import db
    from plugin.oauth.models import OAuthClient

    stale = register(client, CLAUDE).json["client_id"]
    used = register(client, CLAUDE | {"client_name": "Used"}).json["client_id"]
    fresh = register(client, CLAUDE | {"client_name": "Fresh"}).json["client_id"]
    with app.app_context():
        rows = {c.client_id: c for c in db.session.scalars(db.select(OAuthClient))}
        rows[stale].created_at = utcnow() - timedelta(days=40)
        rows[used].created_at = utcnow() - timedelta(days=40)
        rows[used].last_used_at = utcnow() - timedelta(days=2)
        db.session.commit()
    result = runner.invoke(args=["clients", "prune", "--json"])
    assert json.loads(result.output) == {"removed": 1, "unused_days": 30}
    assert runner.invoke(args=["clients", "prune", "--unused-days", "1"]).exit_code == 0
    with app.app_context():
        left = set(db.session.scalars(db.select(OAuthClient.client_id)))
    assert left == {fresh}
    assert runner.invoke(args=["clients", "prune", "--unused-days", "0"]).exit_code != 0


@pytest.fixture
def public_tokens(signed_in, client):
    registered = register(client, CLAUDE).json

    class Creds:
        client_id = registered["client_id"]
        redirect_uri = CLAUDE["redirect_uris"][0]

    verifier, challenge = pkce_pair()
    url = authorize_url(Creds, code_challenge=challenge, code_challenge_method="S256")
    params = callback_params(allow(signed_in, url))
    response = client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": Creds.redirect_uri,
            "client_id": Creds.client_id,
            "code_verifier": verifier,
        },
    )
    assert response.status_code == 200, response.json
    return Creds, response.json


def refresh(client, creds, token):
    return client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": token, "client_id": creds.client_id},
    )


def test_a_retried_refresh_within_the_grace_gets_the_same_pair(client, public_tokens):
    creds, tokens = public_tokens
    first = refresh(client, creds, tokens["refresh_token"])
    retry = refresh(client, creds, tokens["refresh_token"])
    assert first.status_code == retry.status_code == 200
    assert retry.json["access_token"] == first.json["access_token"]
    assert retry.json["refresh_token"] == first.json["refresh_token"]
    # The new pair goes on working: the grant was not revoked.
    assert refresh(client, creds, first.json["refresh_token"]).status_code == 200


def test_the_retry_answer_is_not_kept_in_plain_text(app, client, public_tokens):
    from plugin.extensions import db
    from plugin.oauth.models import OAuthToken

    creds, tokens = public_tokens
    new = refresh(client, creds, tokens["refresh_token"]).json
    with app.app_context():
        sealed = [
            t.retry_answer for t in db.session.scalars(db.select(OAuthToken)) if t.retry_answer
        ]
    assert len(sealed) == 1
    assert new["access_token"] not in sealed[0] and new["refresh_token"] not in sealed[0]


def test_reuse_after_the_grace_revokes_the_family(app, client, public_tokens):
    creds, tokens = public_tokens
    first = refresh(client, creds, tokens["refresh_token"]).json
    app.config["REFRESH_RETRY_GRACE"] = 0
    reused = refresh(client, creds, tokens["refresh_token"])
    assert reused.status_code == 400 and reused.json["error"] == "invalid_grant"
    assert refresh(client, creds, first["refresh_token"]).status_code == 400


def test_reuse_once_the_new_token_was_used_revokes_the_family(client, public_tokens):
    creds, tokens = public_tokens
    second = refresh(client, creds, tokens["refresh_token"]).json
    third = refresh(client, creds, second["refresh_token"]).json
    assert refresh(client, creds, tokens["refresh_token"]).status_code == 400
    assert refresh(client, creds, third["refresh_token"]).status_code == 400
