"""The Google, Microsoft and Apple presets against the real oidc-provider dressed as each.

The provider cannot be Google, Microsoft or Apple; it imitates what our code depends on:
- Google: the address and ``email_verified`` in the ID token.
- Microsoft: an Entra tenant's issuer ``…/{tenant id}/v2.0`` with ``tid`` and ``xms_edov`` in
  the ID token and no ``email_verified``, and the multi-tenant document whose issuer is
  ``…/{tenantid}/v2.0``. One provider process serves one tenant's issuer, so a person of
  another tenant is imitated by a ``tid`` that is not the signing issuer's tenant.
- Apple: ``response_mode=form_post``, the ID token holding the address with
  ``email_verified`` as the string ``"true"``, no UserInfo endpoint, and a client secret that
  is an ES256 JWT signed with the team's key. oidc-provider knows only fixed secrets, so a
  gate in front of its token endpoint checks the JWT as Apple does (signature by the key
  whose public half Apple holds, ``kid``, ``iss`` = team id, ``sub`` = client id,
  ``aud`` = https://appleid.apple.com, a bounded lifetime) and hands the provider its secret.
"""

from __future__ import annotations

import html
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from tests.accounts.upstream_helpers import (
    accounts,
    come_back,
    identities,
    install_path,
    start,
    upstream_steps,
)
from tests.clients.oidc_provider import (
    APPLE_CLIENT_ID,
    APPLE_GATE_SECRET,
    CLIENT_ID,
    CLIENT_SECRET,
    MICROSOFT_PATH,
    OTHER_TENANT,
    TENANT,
    answer_from,
)
from tests.clients.token_gate import TokenGate

TEAM_ID = "TEAM123456"
KEY_ID = "KEY7654321"
APPLE_AUDIENCE = "https://appleid.apple.com"
NEXT = "/oauth/authorize?response_type=code&client_id=abc&state=s-1"


@pytest.fixture(scope="module")
def apple_key(tmp_path_factory):
    """The team's signing key, as App Store Connect hands it out (a PKCS#8 .p8 file)."""
    key = ECKey.generate_key("P-256", private=True)
    path = tmp_path_factory.mktemp("apple") / f"AuthKey_{KEY_ID}.p8"
    path.write_bytes(key.as_pem(private=True))
    return key, path


def apple_refusal(form: dict[str, str], headers: dict[str, str], key: ECKey) -> str | None:
    """What Apple would object to in the client authentication, or None."""
    if "Authorization" in headers or form.get("client_id") != APPLE_CLIENT_ID:
        return "the client id and secret belong in the form (client_secret_post)"
    try:
        token = jwt.decode(form.get("client_secret", ""), key, algorithms=["ES256"])
    except (JoseError, ValueError) as error:
        return f"the client secret is not a JWT signed by the team's key: {error}"
    claims = token.claims
    now = time.time()
    expected = {"iss": TEAM_ID, "sub": APPLE_CLIENT_ID, "aud": APPLE_AUDIENCE}
    if token.header.get("kid") != KEY_ID or any(claims.get(k) != v for k, v in expected.items()):
        return f"wrong kid or claims: {token.header} {claims}"
    if not claims["iat"] - 60 <= now < claims["exp"] <= claims["iat"] + 15_777_000:
        return "the secret is expired or lives longer than six months"
    return None


@pytest.fixture(scope="module")
def apple_gate(oidc_provider, apple_key):
    key, _ = apple_key

    def check_client_secret(form, headers):
        problem = apple_refusal(form, headers, key)
        if problem:
            return 400, {"error": "invalid_client", "error_description": problem}
        return form | {"client_secret": APPLE_GATE_SECRET}, headers

    running = TokenGate(oidc_provider.discovery_url_at("/apple"), check_client_secret)
    yield running
    running.stop()


@pytest.fixture
def app_config(app_config, oidc_provider, apple_gate, apple_key):
    common = oidc_provider.discovery_url_at("/common/v2.0")
    tenant = oidc_provider.discovery_url_at(MICROSOFT_PATH)
    settings = {
        "UPSTREAM_PROVIDERS": "google microsoft entra fabrikam apple",
        "UPSTREAM_GOOGLE_DISCOVERY_URL": oidc_provider.discovery_url_at("/google"),
        # Any work, school or personal account: the multi-tenant ("common") document.
        "UPSTREAM_MICROSOFT_DISCOVERY_URL": common,
        # One organisation's tenant, named by the operator.
        "UPSTREAM_ENTRA_PRESET": "microsoft",
        "UPSTREAM_ENTRA_LABEL": "Contoso",
        "UPSTREAM_ENTRA_TENANTS": TENANT,
        "UPSTREAM_ENTRA_DISCOVERY_URL": tenant,
        # Another organisation's tenant only: Contoso's people are not let in.
        "UPSTREAM_FABRIKAM_PRESET": "microsoft",
        "UPSTREAM_FABRIKAM_LABEL": "Fabrikam",
        "UPSTREAM_FABRIKAM_TENANTS": OTHER_TENANT,
        "UPSTREAM_FABRIKAM_DISCOVERY_URL": common,
        "UPSTREAM_APPLE_CLIENT_ID": APPLE_CLIENT_ID,
        "UPSTREAM_APPLE_TEAM_ID": TEAM_ID,
        "UPSTREAM_APPLE_KEY_ID": KEY_ID,
        "UPSTREAM_APPLE_PRIVATE_KEY_FILE": str(apple_key[1]),
        "UPSTREAM_APPLE_DISCOVERY_URL": apple_gate.discovery_url,
    }
    for name in ("google", "microsoft", "entra", "fabrikam"):
        settings[f"UPSTREAM_{name.upper()}_CLIENT_ID"] = CLIENT_ID
        settings[f"UPSTREAM_{name.upper()}_CLIENT_SECRET"] = CLIENT_SECRET
    return {**app_config, **settings}


def sign_in(client, name: str, login: str, next_path: str = NEXT):
    authorize = start(client, name, next_path).headers["Location"]
    return come_back(client, answer_from(authorize, login))


def test_the_login_page_offers_each_preset_by_its_name(client):
    page = client.get("/login").get_data(as_text=True)
    for label in ("Google", "Microsoft", "Contoso", "Fabrikam", "Apple"):
        assert f"Continue with {label}" in page


def test_google_verified_address_makes_an_account(app, client):
    response = sign_in(client, "google", "alice")
    assert response.status_code == 303 and response.headers["Location"] == NEXT
    assert accounts(app) == [("alice@gmail.example", True)]
    assert [row[0] for row in identities(app)] == ["google"]


def test_google_unverified_address_is_refused(app, client, oauth_client):
    install = install_path(oauth_client)
    client.get(install)
    response = sign_in(client, "google", "mallory", install)
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "Your e-mail address is not verified" in page
    assert accounts(app) == []
    assert upstream_steps(app)[-1][:2] == (False, "unverified")
    # "Try Google again" opens Google's account chooser.
    again = re.search(r'href="([^"]+)"[^>]*>Try Google again', page)
    assert again
    authorize = client.get(html.unescape(again[1])).headers["Location"]
    assert parse_qs(urlsplit(authorize).query)["prompt"] == ["select_account"]


def test_microsoft_domain_verified_address_makes_an_account(app, client):
    response = sign_in(client, "microsoft", "owner")
    assert response.status_code == 303 and response.headers["Location"] == NEXT
    assert accounts(app) == [("owner@contoso.example", True)]


def test_microsoft_address_without_xms_edov_is_not_verified(app, client):
    """Entra sends no email_verified: any tenant's admin can type any address for a user."""
    response = sign_in(client, "microsoft", "worker")
    assert response.status_code == 403
    assert "not verified" in response.get_data(as_text=True)
    assert accounts(app) == []


def test_microsoft_tid_must_be_the_issuers_tenant(app, client):
    response = sign_in(client, "microsoft", "forger")
    assert response.status_code == 400
    assert "Microsoft sent an answer we cannot trust" in response.get_data(as_text=True)
    assert accounts(app) == []
    [(ok, cause, reason)] = upstream_steps(app)
    assert (ok, cause) == (False, "invalid_token") and "iss" in reason, reason


def test_a_named_tenant_vouches_for_its_addresses(app, client):
    response = sign_in(client, "entra", "worker")
    assert response.status_code == 303 and response.headers["Location"] == NEXT
    assert accounts(app) == [("worker@contoso.example", True)]
    [(provider, _, email)] = identities(app)
    assert (provider, email) == ("entra", "worker@contoso.example")


def test_a_tenant_not_on_the_list_is_refused(app, client, oauth_client):
    install = install_path(oauth_client)
    client.get(install)
    response = sign_in(client, "fabrikam", "owner", install)
    assert response.status_code == 403
    assert "This account is not allowed here" in response.get_data(as_text=True)
    assert accounts(app) == []
    assert upstream_steps(app)[-1][:2] == (False, "tenant")


def test_apple_form_post_and_jwt_client_secret(app, client, apple_gate, apple_key):
    authorize = start(client, "apple", NEXT).headers["Location"]
    assert "response_mode=form_post" in authorize
    answer = answer_from(authorize, "appleseed")
    assert answer.method == "POST" and {"code", "state"} <= set(answer.fields)
    apple_gate.requests.clear()

    # The provider's page posts cross-site: a SameSite=Lax session cookie stays behind, so
    # the app turns the answer into a GET to itself, which the browser sends with its cookie.
    without_cookie = come_back(app.test_client(), answer)
    assert without_cookie.status_code == 303
    assert accounts(app) == []
    response = client.get(without_cookie.headers["Location"])
    assert response.status_code == 303 and response.headers["Location"] == NEXT
    assert accounts(app) == [("x7q2@privaterelay.appleid.com", True)]

    [(form, headers)] = apple_gate.requests
    assert apple_refusal(form, headers, apple_key[0]) is None
    token = jwt.decode(form["client_secret"], apple_key[0], algorithms=["ES256"])
    assert token.header["kid"] == KEY_ID
    assert (token.claims["iss"], token.claims["sub"]) == (TEAM_ID, APPLE_CLIENT_ID)
    assert token.claims["aud"] == APPLE_AUDIENCE


def test_apple_answer_posted_with_the_cookie(app, client):
    answer = answer_from(start(client, "apple", NEXT).headers["Location"], "appleseed")
    response = come_back(client, answer)
    assert response.status_code == 303 and response.headers["Location"] == NEXT
    assert [row[0] for row in identities(app)] == ["apple"]
