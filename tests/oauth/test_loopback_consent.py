"""Desktop clients on a loopback port are asked every time (RFC 8252 §8.6, OA-31).

Any program on the computer can listen on a loopback port and reuse the client id of a
desktop app the person allowed once; so a code for a loopback redirect leaves only through
a page the person saw in this request, and that page's form may redirect to the port.
"""

from __future__ import annotations

import pytest

from tests.helpers import REDIRECT_URI, make_oauth_client
from tests.oauth.connector_helpers import desktop_authorize_query, register_desktop_app
from tests.oauth.oauth_helpers import allow, authorize_url, callback_params

LOOPBACKS = [
    "http://127.0.0.1:{port}/callback",
    "http://localhost:{port}/callback",
    "http://[::1]:{port}/callback",
]


def url_for_port(client_id: str, pattern: str, port: int) -> str:
    query, _verifier = desktop_authorize_query(client_id, pattern.format(port=port))
    return "/oauth/authorize?" + query


@pytest.mark.parametrize("pattern", LOOPBACKS)
def test_oa31_a_returning_person_confirms_a_loopback_app_every_time(signed_in, pattern):
    client_id = register_desktop_app(signed_in, pattern.format(port=3000))
    first = callback_params(allow(signed_in, url_for_port(client_id, pattern, 3000)))
    assert first["code"] and first["state"] == "xyz"

    # The same app again, now on another free port: a page, not a code.
    again = signed_in.get(url_for_port(client_id, pattern, 49152))
    assert again.status_code == 200 and "Location" not in again.headers
    html = again.get_data(as_text=True)
    assert "You allowed Desk Agent before" in html and "port 49152" in html
    csp = again.headers["Content-Security-Policy"]
    origin = pattern.format(port=49152).removesuffix("/callback")
    assert f"form-action 'self' https: {origin}" in csp

    second = callback_params(allow(signed_in, url_for_port(client_id, pattern, 49152)))
    assert second["code"] and second["code"] != first["code"]


def test_oa31_a_client_registered_with_a_secret_and_a_loopback_redirect_asks_too(app, signed_in):
    desktop = make_oauth_client(app, redirect_uri="http://127.0.0.1:8765/cb", name="Desk Tool")
    assert callback_params(allow(signed_in, authorize_url(desktop)))["code"]
    again = signed_in.get(authorize_url(desktop))
    assert again.status_code == 200
    assert "You allowed Desk Tool before" in again.get_data(as_text=True)


def test_oa31_a_returning_person_goes_straight_back_to_an_https_client(app, signed_in):
    web = make_oauth_client(app, redirect_uri=REDIRECT_URI)
    assert callback_params(allow(signed_in, authorize_url(web)))["code"]
    again = signed_in.get(authorize_url(web))
    assert again.location.startswith(REDIRECT_URI) and callback_params(again)["code"]


def test_oa31_a_posted_allow_still_needs_the_consent_forms_csrf_token(signed_in):
    client_id = register_desktop_app(signed_in, "http://127.0.0.1:3000/callback")
    url = url_for_port(client_id, LOOPBACKS[0], 3000)
    callback_params(allow(signed_in, url))
    forged = signed_in.post(url, data={"decision": "allow"})
    assert forged.status_code == 400 and "Location" not in forged.headers
