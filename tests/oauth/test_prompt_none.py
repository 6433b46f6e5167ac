"""``prompt=none`` (OpenID Connect Core §3.1.2.1): the client asks for no page; when one would
be needed, the answer goes to its redirect URI as ``login_required`` or ``consent_required``."""

from __future__ import annotations

from tests.helpers import make_user
from tests.oauth.connector_helpers import desktop_authorize_query, register_desktop_app
from tests.oauth.oauth_helpers import allow, authorize_url, callback_params


def test_not_signed_in_answers_login_required(client, oauth_client):
    params = callback_params(client.get(authorize_url(oauth_client, prompt="none")))
    assert params["error"] == "login_required" and params["state"] == "xyz"
    assert params["iss"] == "http://localhost"


def test_never_allowed_answers_consent_required(signed_in, oauth_client):
    response = signed_in.get(authorize_url(oauth_client, prompt="none"))
    assert response.location.startswith(oauth_client.redirect_uri + "?")
    assert callback_params(response)["error"] == "consent_required"


def test_allowed_before_gets_a_code_without_a_page(signed_in, oauth_client):
    allow(signed_in, authorize_url(oauth_client))
    params = callback_params(signed_in.get(authorize_url(oauth_client, prompt="none")))
    assert "code" in params and params["state"] == "xyz"


def test_a_loopback_client_always_answers_consent_required(signed_in):
    callback = "http://127.0.0.1:4567/callback"
    client_id = register_desktop_app(signed_in, callback)
    query, _ = desktop_authorize_query(client_id, callback)
    allow(signed_in, "/oauth/authorize?" + query)
    response = signed_in.get("/oauth/authorize?" + query + "&prompt=none")
    assert callback_params(response)["error"] == "consent_required"


def test_none_with_another_value_is_an_invalid_request(signed_in, oauth_client):
    params = callback_params(signed_in.get(authorize_url(oauth_client, prompt="none login")))
    assert params["error"] == "invalid_request"


def test_an_unverified_address_answers_interaction_required(app, auth, oauth_client):
    app.config["REQUIRE_VERIFIED_EMAIL"] = True
    make_user(app, "new@example.com")
    auth.login("new@example.com")
    params = callback_params(auth.client.get(authorize_url(oauth_client, prompt="none")))
    assert params["error"] == "interaction_required"


def test_the_refusal_is_traced(signed_in, oauth_client, app):
    from plugin.connections.queries import query_traces, trace_as_dict

    signed_in.get(authorize_url(oauth_client, prompt="none"))
    with app.app_context():
        (trace,) = [trace_as_dict(t) for t in query_traces(limit=10)]
    assert trace["outcome"] == "failed"
    assert trace["failed_step"] == "authorization request"


def test_an_unknown_client_still_gets_the_error_page(client):
    response = client.get(
        "/oauth/authorize?response_type=code&client_id=nope&prompt=none&redirect_uri=https://x.example/cb"
    )
    assert response.status_code == 400 and "Location" not in response.headers
