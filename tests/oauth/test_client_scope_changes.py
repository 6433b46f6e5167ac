"""Narrowing a client's scopes narrows what it already holds (tokens, refreshes, consents)."""

from __future__ import annotations

import sqlalchemy as sa

from plugin.extensions import db
from plugin.oauth.clients.manage import update_client
from plugin.oauth.models import Consent, OAuthClient
from tests.helpers import make_token
from tests.oauth.oauth_helpers import refresh


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def narrow(app, oauth_client, scope: str) -> None:
    with app.app_context():
        update_client(db.session.get(OAuthClient, oauth_client.id), scope=scope)
        db.session.commit()


def test_narrowing_a_client_narrows_its_live_tokens(app, client, oauth_client, tokens):
    narrow(app, oauth_client, "todos:read")

    headers = bearer(tokens["access_token"])
    assert client.get("/api/todos", headers=headers).status_code == 200
    created = client.post("/api/todos", json={"title": "x"}, headers=headers)
    assert created.status_code == 403
    assert created.json["error"] == "insufficient_scope"


def test_a_refresh_after_narrowing_stays_narrow(app, client, oauth_client, tokens):
    narrow(app, oauth_client, "todos:read")

    response = refresh(client, oauth_client, tokens["refresh_token"])
    assert response.status_code == 200, response.json
    assert response.json["scope"] == "todos:read"
    again = refresh(client, oauth_client, response.json["refresh_token"])
    assert again.json["scope"] == "todos:read"
    created = client.post(
        "/api/todos", json={"title": "x"}, headers=bearer(again.json["access_token"])
    )
    assert created.status_code == 403


def test_a_refresh_asking_for_a_removed_scope_is_refused(app, client, oauth_client, tokens):
    narrow(app, oauth_client, "todos:read")

    response = refresh(client, oauth_client, tokens["refresh_token"], scope="todos:write")
    assert response.status_code == 400
    assert response.json["error"] == "invalid_scope"


def test_a_token_left_with_no_scope_is_revoked(app, client, user, oauth_client):
    # Only write was granted to this token: narrowing to read leaves it nothing.
    write_only = make_token(app, user, oauth_client, scope="todos:write")
    narrow(app, oauth_client, "todos:read")

    assert client.get("/api/todos", headers=bearer(write_only["access_token"])).status_code == 401
    assert refresh(client, oauth_client, write_only["refresh_token"]).status_code == 400


def test_narrowing_narrows_remembered_consent(app, oauth_client, tokens):
    narrow(app, oauth_client, "todos:read")
    with app.app_context():
        consent = db.session.scalar(sa.select(Consent).where(Consent.client_id == oauth_client.id))
        assert consent.scope == "todos:read"


def test_set_scope_command_narrows_a_client(app, runner, client, oauth_client, tokens):
    result = runner.invoke(args=["clients", "set-scope", oauth_client.client_id, "todos:read"])
    assert result.exit_code == 0, result.output
    assert "todos:read" in result.output
    created = client.post("/api/todos", json={"title": "x"}, headers=bearer(tokens["access_token"]))
    assert created.status_code == 403


def test_set_scope_command_refuses_an_unknown_scope(runner, oauth_client):
    result = runner.invoke(args=["clients", "set-scope", oauth_client.client_id, "todos:admin"])
    assert result.exit_code != 0
    assert "Unknown scope 'todos:admin'" in result.output
