"""Changing the password on /account ends other sessions and revokes the apps' tokens; the
page says so, and a notice is e-mailed."""

from __future__ import annotations

import pytest

from tests.helpers import PASSWORD, AuthActions, csrf_token_from, make_token
from tests.mail_helpers import sending_to

NEW = "a completely different passphrase"


@pytest.fixture
def app_config(app_config, mailbox):
    return {**app_config, **sending_to(mailbox)}


def test_a_password_change_revokes_access_and_refresh_tokens(
    app, signed_in, mailbox, user, oauth_client, token
):
    refresh = make_token(app, user, oauth_client)["refresh_token"]
    other = app.test_client()
    AuthActions(other).login(user.email)
    page = signed_in.get("/account").get_data(as_text=True)
    response = signed_in.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": NEW,
            "confirm": NEW,
            "csrf_token": csrf_token_from(page),
        },
    )
    assert response.status_code == 303
    html = signed_in.get("/account").get_data(as_text=True)
    assert "Apps connected to your account (such as ChatGPT) were signed out too" in html

    api = app.test_client()
    assert api.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    refreshed = api.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh,
            "client_id": oauth_client.client_id,
            "client_secret": oauth_client.client_secret,
        },
    )
    assert refreshed.status_code == 400
    assert refreshed.get_json()["error"] == "invalid_grant"
    assert mailbox.last(user.email)["Subject"] == "Your password was changed · Todo Plugin"
