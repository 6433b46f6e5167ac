"""ChatGPT's install, replayed request by request as ChatGPT makes it."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from plugin.extensions import db
from plugin.oauth.models import OAuthClient
from plugin.oauth.scopes import scopes
from tests.helpers import PASSWORD, csrf_token_from
from tests.oauth.oauth_helpers import basic, callback_params

STATE = "ä&b=c%20d/é+?#" + "x" * 40 + "🙂"


def test_chatgpt_installs_with_a_new_account_and_keeps_working_after_refresh(
    app, client, oauth_client
):
    # ChatGPT asks for the scopes its manifest names: every scope the operations use.
    every_scope = " ".join(scopes(app))
    # 1. ChatGPT sends the person's browser to client_url with a state full of odd characters.
    query = urlencode(
        {
            "response_type": "code",
            "client_id": oauth_client.client_id,
            "redirect_uri": oauth_client.redirect_uri,
            "scope": every_scope,
            "state": STATE,
        }
    )
    authorize = f"/oauth/authorize?{query}"
    response = client.get(authorize)
    assert response.status_code == 302
    login_url = response.location
    assert login_url.startswith("/login?next=")

    # 2. The login page links to sign-up, which keeps the pending request.
    login_page = client.get(login_url).get_data(as_text=True)
    signup_href = (
        re.search(r'href="(/signup\?next=[^"]+)"', login_page).group(1).replace("&amp;", "&")
    )
    signup_page = client.get(signup_href).get_data(as_text=True)
    response = client.post(
        signup_href,
        data={
            "email": "new.person@example.com",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "csrf_token": csrf_token_from(signup_page),
        },
    )
    assert response.status_code == 303
    assert response.location == authorize

    # 3. The consent page names the client and the scopes in words; the person allows.
    consent = client.get(response.location)
    html = consent.get_data(as_text=True)
    assert "ChatGPT" in html and "See your todo list" in html
    response = client.post(
        authorize, data={"csrf_token": csrf_token_from(html), "decision": "allow"}
    )
    params = callback_params(response)
    assert response.location.startswith(oauth_client.redirect_uri + "?")
    assert params["state"] == STATE
    assert len(params["code"]) >= 32

    # 4. Token exchange: JSON body with the credentials in it.
    response = client.post(
        "/oauth/token",
        json={
            "grant_type": "authorization_code",
            "client_id": oauth_client.client_id,
            "client_secret": oauth_client.client_secret,
            "code": params["code"],
            "redirect_uri": oauth_client.redirect_uri,
        },
    )
    assert response.status_code == 200, response.json
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == every_scope

    # 5. An API call with the access token.
    me = client.get("/api/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json["email"] == "new.person@example.com"

    # 6. Refresh with a form body and HTTP Basic credentials.
    response = client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
        headers=basic(oauth_client.client_id, oauth_client.client_secret),
    )
    assert response.status_code == 200, response.json
    refreshed = response.json
    assert refreshed["refresh_token"] != body["refresh_token"]
    assert refreshed["scope"] == every_scope
    me = client.get("/api/me", headers={"Authorization": f"Bearer {refreshed['access_token']}"})
    assert me.status_code == 200

    # 7. The old refresh token is refused.
    response = client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
        headers=basic(oauth_client.client_id, oauth_client.client_secret),
    )
    assert response.status_code == 400
    assert response.json["error"] == "invalid_grant"


def test_a_second_install_does_not_ask_again(get_code, signed_in, oauth_client):
    get_code()
    from tests.oauth.oauth_helpers import authorize_url

    response = signed_in.get(authorize_url(oauth_client, state="again"))
    params = callback_params(response)
    assert params["state"] == "again" and params["code"]


def test_asking_for_more_than_was_allowed_asks_again(get_code, signed_in, oauth_client):
    from tests.oauth.oauth_helpers import authorize_url

    get_code(scope="todos:read")
    page = signed_in.get(authorize_url(oauth_client, scope="todos:read todos:write"))
    assert page.status_code == 200
    assert "Allow" in page.get_data(as_text=True)


def test_empty_scope_means_every_scope_of_the_client(app, get_code, exchange, oauth_client):
    body = exchange(get_code(scope="")).json
    with app.app_context():
        assert body["scope"] == db.session.get(OAuthClient, oauth_client.id).scope
