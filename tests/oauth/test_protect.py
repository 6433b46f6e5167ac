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


@pytest.mark.parametrize(
    "header", ["", "Bearer", "Bearer ", "Basic abc", "Bearer nope", "bearer x y"]
)
def test_oa27_missing_or_malformed_tokens_are_401(client, header):
    response = client.get("/api/me", headers={"Authorization": header} if header else {})
    assert_invalid_token(response)


def test_oa19_tokens_in_the_query_string_are_ignored(client, token):
    assert_invalid_token(client.get(f"/api/me?access_token={token}"))


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
    from plugin.oauth.clients import find_client, set_client_disabled

    with app.app_context():
        set_client_disabled(find_client(oauth_client.client_id), True)
        db.session.commit()
    assert_invalid_token(get_me(client, token))
    with app.app_context():
        set_client_disabled(find_client(oauth_client.client_id), False)
        db.session.commit()
    assert get_me(client, token).status_code == 200
