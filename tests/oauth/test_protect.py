"""``require_oauth``: bearer tokens on the API (OA-19, OA-27, disabled users and clients)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from plugin.clock import utcnow
from plugin.extensions import db
from plugin.oauth.models import OAuthToken
from tests.helpers import make_token


def get_me(client, token: str | None, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get("/api/me", headers=headers, **kwargs)


def assert_invalid_token(response) -> None:
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json["error"] == "invalid_token"


def test_a_valid_token_is_accepted(client, token):
    assert get_me(client, token).status_code == 200


def assert_no_token(response) -> None:
    """RFC 6750 §3.1: a request without a token gets the challenge and no error code."""
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ") and "resource_metadata=" in challenge
    assert "error=" not in challenge, challenge
    assert response.json["error"] == "unauthorized"


@pytest.mark.parametrize("header", ["Bearer nope", "bearer x y"])
def test_oa27_malformed_tokens_are_401_invalid_token(client, header):
    assert_invalid_token(client.get("/api/me", headers={"Authorization": header}))


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer ", "Basic abc"])
def test_oa27_a_missing_token_gets_a_challenge_without_an_error_code(client, header):
    assert_no_token(client.get("/api/me", headers={"Authorization": header} if header else {}))


def test_oa19_tokens_in_the_query_string_are_ignored(client, token):
    assert_no_token(client.get(f"/api/me?access_token={token}"))


def test_oa27_mcp_answers_a_missing_token_without_an_error_code(client):
    response = client.post(
        "/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={"Accept": "application/json, text/event-stream"},
    )
    assert_no_token(response)


def test_successful_answers_carry_no_retry_after(client, token, oauth_client):
    answer = get_me(client, token)
    assert answer.status_code == 200
    assert "X-RateLimit-Limit" in answer.headers  # the limiter did see it
    assert "Retry-After" not in answer.headers


def test_a_refusal_for_too_many_calls_keeps_retry_after(app, client, token):
    app.config["API_RATE_LIMIT"] = "2 per minute"
    statuses = [get_me(client, token).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert int(get_me(client, token).headers["Retry-After"]) > 0


def test_oa27_expired_and_revoked_tokens_are_401(app, client, token):
    with app.app_context():
        db.session.execute(
            sa.update(OAuthToken).values(access_expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    assert_invalid_token(get_me(client, token))
    with app.app_context():
        db.session.execute(
            sa.update(OAuthToken).values(
                access_expires_at=utcnow() + timedelta(hours=1), revoked_at=utcnow()
            )
        )
        db.session.commit()
    assert_invalid_token(get_me(client, token))


def test_oa27_wrong_scope_is_403_insufficient_scope(app, client, user, oauth_client):
    read_only = make_token(app, user, oauth_client, scope="todos:read")["access_token"]
    response = client.post(
        "/api/todos", json={"title": "x"}, headers={"Authorization": f"Bearer {read_only}"}
    )
    assert response.status_code == 403
    assert response.json["error"] == "insufficient_scope"


def test_disabling_the_user_ends_api_access_at_once(app, client, user, token):
    from plugin.accounts.models import User
    from plugin.accounts.services import set_disabled

    with app.app_context():
        set_disabled(db.session.get(User, user.id), True)
        db.session.commit()
    assert_invalid_token(get_me(client, token))


def test_disabling_the_client_ends_api_access_and_enabling_restores_it(
    app, client, oauth_client, token
):
    from plugin.oauth.clients.manage import find_client, set_client_disabled

    with app.app_context():
        set_client_disabled(find_client(oauth_client.client_id), True)
        db.session.commit()
    assert_invalid_token(get_me(client, token))
    with app.app_context():
        set_client_disabled(find_client(oauth_client.client_id), False)
        db.session.commit()
    assert get_me(client, token).status_code == 200
