"""The authorization endpoint: who gets redirected where, and what people see (OA-01…OA-26)."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.helpers import PASSWORD, REDIRECT_URI, csrf_token_from, make_oauth_client
from tests.oauth.oauth_helpers import allow, authorize_url, callback_params

BAD_REDIRECTS = [
    REDIRECT_URI + "/",
    REDIRECT_URI + "/x",
    REDIRECT_URI.replace("/oauth/callback", "/OAUTH/callback"),
    REDIRECT_URI + "?x=1",
    REDIRECT_URI + "#f",
    REDIRECT_URI.replace("chat.openai.com", "chat.openai.com:8443"),
    REDIRECT_URI.replace("https:", "http:"),
    REDIRECT_URI.replace("chat.openai.com", "chat.openai.com.evil.com"),
    REDIRECT_URI.replace("chat.openai.com", "chat.openai.com@evil.com"),
    "https://evil.example/cb",
]


def assert_error_page(response, text: str = "") -> None:
    assert response.status_code == 400
    assert "Location" not in response.headers
    html = response.get_data(as_text=True)
    assert "This sign-in link is not valid" in html
    assert text in html


@pytest.mark.parametrize("redirect_uri", BAD_REDIRECTS)
def test_oa01_redirect_uri_must_match_exactly(signed_in, oauth_client, redirect_uri):
    assert_error_page(signed_in.get(authorize_url(oauth_client, redirect_uri=redirect_uri)))


@pytest.mark.parametrize("redirect_uri", BAD_REDIRECTS[:3])
def test_oa01_also_before_signing_in(client, oauth_client, redirect_uri):
    assert_error_page(client.get(authorize_url(oauth_client, redirect_uri=redirect_uri)))


def test_oa02_unknown_or_missing_client_never_redirects(client, signed_in, oauth_client):
    class Unknown:
        client_id = "no-such-client"
        redirect_uri = oauth_client.redirect_uri

    assert_error_page(signed_in.get(authorize_url(Unknown)), "does not exist")
    assert_error_page(signed_in.get(authorize_url(oauth_client, client_id=None)), "client_id")


def test_oa02_another_clients_redirect_uri_is_refused(app, signed_in, oauth_client):
    other = make_oauth_client(app, name="Other", redirect_uri="https://other.example/cb")
    assert_error_page(signed_in.get(authorize_url(oauth_client, redirect_uri=other.redirect_uri)))


def test_oa02_a_disabled_client_cannot_start_an_install(app, signed_in, oauth_client):
    from plugin.extensions import db
    from plugin.oauth.clients.manage import find_client, set_client_disabled

    with app.app_context():
        set_client_disabled(find_client(oauth_client.client_id), True)
        db.session.commit()
    assert_error_page(signed_in.get(authorize_url(oauth_client)))


@pytest.mark.parametrize("response_type", ["token", "id_token", "code token"])
def test_oa04_implicit_flow_is_unsupported(signed_in, oauth_client, response_type):
    params = callback_params(
        signed_in.get(authorize_url(oauth_client, response_type=response_type, state="s1"))
    )
    assert params["error"] in ("unsupported_response_type", "unauthorized_client")
    assert params["state"] == "s1"
    assert "code" not in params


STATES = ["a&b=c", "100% sure", "ünïcödé ✓ 🙂", "x" * 500, "=&?#/+ %2F"]


@pytest.mark.parametrize("state", STATES)
def test_oa05_state_is_echoed_exactly_on_success(signed_in, oauth_client, state):
    params = callback_params(allow(signed_in, authorize_url(oauth_client, state=state)))
    assert params["state"] == state and params["code"]


@pytest.mark.parametrize("state", STATES)
def test_oa05_state_is_echoed_exactly_on_error(signed_in, oauth_client, state):
    params = callback_params(allow(signed_in, authorize_url(oauth_client, state=state), "deny"))
    # RFC 9207: the issuer comes back on errors too.
    assert params == {"error": "access_denied", "state": state, "iss": "http://localhost"} | (
        {"error_description": params["error_description"]} if "error_description" in params else {}
    )


def test_unknown_scope_goes_back_to_the_client_as_invalid_scope(signed_in, oauth_client):
    params = callback_params(signed_in.get(authorize_url(oauth_client, scope="admin", state="q")))
    assert params["error"] == "invalid_scope" and params["state"] == "q"


def test_not_signed_in_leads_to_login_with_signup_link_and_back(client, user, oauth_client):
    url = authorize_url(oauth_client)
    response = client.get(url)
    assert response.status_code == 302
    login_url = response.location
    login = client.get(login_url).get_data(as_text=True)
    assert "Create an account" in login and "/signup?next=" in login
    back = client.post(
        login_url,
        data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token_from(login)},
    )
    assert back.status_code == 303
    assert back.location == url


def test_consent_page_names_the_client_and_scopes(signed_in, app, oauth_client):
    html = signed_in.get(authorize_url(oauth_client)).get_data(as_text=True)
    assert "Allow ChatGPT to use your account?" in html
    assert "See your todo list" in html
    assert "Add, change and delete todos" in html
    assert ">Allow<" in html and ">Deny<" in html


def test_consent_page_links_the_privacy_policy_and_terms_in_a_new_tab(signed_in, oauth_client):
    html = signed_in.get(authorize_url(oauth_client)).get_data(as_text=True)
    card = html[: html.index("</section>")]
    for page in ("/privacy", "/terms"):
        # A new tab: reading them must not lose the authorization request in this one.
        assert f'<a href="{page}" target="_blank" rel="noopener">' in card


def test_oa20_consent_answers_with_a_plain_redirect(signed_in, oauth_client):
    response = allow(signed_in, authorize_url(oauth_client))
    assert response.status_code in (302, 303)


def test_oa21_oa23_consent_and_authorize_cannot_be_framed_or_leak_referrers(
    signed_in, client, oauth_client
):
    for response in (signed_in.get(authorize_url(oauth_client)), client.get("/login")):
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["Referrer-Policy"] == "no-referrer"
        html = response.get_data(as_text=True)
        assert "http://" not in html.replace("http://localhost", "")
        assert 'src="https://' not in html and 'href="https://' not in html


def test_oa22_no_cors_on_authorize(signed_in, oauth_client):
    response = signed_in.get(
        authorize_url(oauth_client), headers={"Origin": "https://chat.openai.com"}
    )
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = signed_in.options(
        authorize_url(oauth_client),
        headers={"Origin": "https://chat.openai.com", "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_oa24_consent_without_or_with_a_foreign_csrf_token_issues_no_code(
    app, signed_in, oauth_client
):
    url = authorize_url(oauth_client)
    signed_in.get(url)
    missing = signed_in.post(url, data={"decision": "allow"})
    assert missing.status_code == 400
    other = app.test_client()
    foreign = csrf_token_from(other.get("/login").get_data(as_text=True))
    forged = signed_in.post(url, data={"decision": "allow", "csrf_token": foreign})
    assert forged.status_code == 400
    for response in (missing, forged):
        assert "Location" not in response.headers


def test_oa24_deny_sends_access_denied_and_remembers_nothing(signed_in, oauth_client):
    params = callback_params(allow(signed_in, authorize_url(oauth_client), "deny"))
    assert params["error"] == "access_denied"
    # Nothing was remembered: the next request asks again.
    assert signed_in.get(authorize_url(oauth_client)).status_code == 200


@pytest.mark.parametrize("name", ["client_id", "redirect_uri", "response_type", "state", "scope"])
def test_oa26_repeated_parameters_are_refused(signed_in, oauth_client, name):
    url = authorize_url(oauth_client) + f"&{name}=again"
    response = signed_in.get(url)
    assert response.status_code in (302, 400)
    if response.status_code == 400:
        assert "invalid_request" in response.get_data(as_text=True)
    else:
        assert callback_params(response)["error"] == "invalid_request"
    assert "code=" not in (response.location or "")


def test_public_client_must_send_a_pkce_challenge(app, signed_in):
    from plugin.extensions import db
    from plugin.oauth.clients.manage import create_client

    with app.app_context():
        public, _ = create_client("Desktop", ["http://127.0.0.1:8765/cb"], public=True)
        db.session.commit()

        class Creds:
            client_id = public.client_id
            redirect_uri = "http://127.0.0.1:8765/cb"

    params = callback_params(signed_in.get(authorize_url(Creds, state="p")))
    assert params["error"] == "invalid_request" and "PKCE" in params["error_description"]


def test_login_and_signup_name_the_app_waiting_for_the_person(client, oauth_client):
    login_url = client.get(authorize_url(oauth_client)).location
    login = client.get(login_url).get_data(as_text=True)
    assert "Log in to continue to ChatGPT." in login
    signup_url = "/signup?" + login_url.split("?", 1)[1]
    assert "Create an account to continue to ChatGPT." in client.get(signup_url).get_data(
        as_text=True
    )
    # A next path naming no registered client gets the general wording, and no name at all.
    unknown = "/login?next=" + quote("/oauth/authorize?client_id=nobody&response_type=code")
    html = client.get(unknown).get_data(as_text=True)
    assert "continue to the app that sent you here" in html


def test_in03_a_state_with_control_characters_other_than_nul_is_still_echoed(
    signed_in, oauth_client
):
    # The contract echoes state byte for byte; only a NUL, valid nowhere, is refused.
    params = callback_params(allow(signed_in, authorize_url(oauth_client, state="a\tb\x01c")))
    assert params["state"] == "a\tb\x01c"


def test_in03_a_nul_in_the_state_gets_an_error_page_not_a_redirect(signed_in, oauth_client):
    response = signed_in.get(authorize_url(oauth_client, state="a\x00b"))
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "a character that is not allowed" in response.get_data(as_text=True)
