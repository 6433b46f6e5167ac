"""An ID token the provider minted for another client is refused, even when everything else
about it holds (the provider's signature, its issuer, this sign-in's nonce).

How the test gets one: the person signs in at the real provider through another app's
authorization request (``another-app``, which shares our redirect URIs) carrying our state,
nonce and PKCE challenge, and a gate in front of the token endpoint authenticates the app's
exchange as that app. The provider then returns a genuine ID token whose ``aud`` is
``another-app``, which is what the app must refuse.
"""

from __future__ import annotations

import base64
import json

import pytest

from tests.accounts.upstream_helpers import (
    accounts,
    come_back,
    identities,
    install_path,
    start,
    upstream_steps,
)
from tests.clients.oidc_provider import CLIENT_ID, CLIENT_SECRET, OTHER_CLIENT_ID, sign_in_at
from tests.clients.token_gate import TokenGate


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def unverified_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.fixture(scope="module")
def gate(oidc_provider):
    """The provider's token endpoint, reached as ``another-app`` whoever asks."""

    def as_another_app(form, headers):
        return form, headers | {"Authorization": basic(OTHER_CLIENT_ID, CLIENT_SECRET)}

    running = TokenGate(oidc_provider.discovery_url, as_another_app)
    yield running
    running.stop()


@pytest.fixture
def app_config(app_config, oidc_provider, gate):
    return {**app_config, **oidc_provider.settings(DISCOVERY_URL=gate.discovery_url)}


def test_id_token_for_another_client_is_refused(app, client, oauth_client, gate):
    install = install_path(oauth_client)
    assert client.get(install).status_code == 302
    authorize = start(client, "test", install).headers["Location"]
    assert f"client_id={CLIENT_ID}" in authorize
    through_another_app = authorize.replace(
        f"client_id={CLIENT_ID}", f"client_id={OTHER_CLIENT_ID}"
    )
    gate.requests.clear()
    gate.answers.clear()
    response = come_back(client, sign_in_at(through_another_app, "alice"))

    # The provider did mint a valid ID token, for the other app, in answer to our exchange.
    [(_, sent_headers)] = gate.requests
    assert sent_headers["Authorization"] == basic(CLIENT_ID, CLIENT_SECRET)
    [answer] = gate.answers
    claims = unverified_claims(answer["id_token"])
    assert claims["aud"] == OTHER_CLIENT_ID

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Test ID sent an answer we cannot trust" in page
    assert "Try Test ID again" in page
    assert accounts(app) == [] and identities(app) == []
    assert client.get("/account").status_code == 302
    [(ok, cause, reason)] = upstream_steps(app)
    assert (ok, cause) == (False, "invalid_token")
    assert "aud" in reason, reason
