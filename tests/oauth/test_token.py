"""The token endpoint: grants, client authentication, PKCE, codes and refresh rotation."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from plugin.clock import utcnow
from plugin.extensions import db
from plugin.oauth.models import AuthorizationCode, OAuthClient, OAuthToken
from tests.helpers import make_oauth_client, make_user
from tests.oauth.oauth_helpers import basic, pkce_pair, refresh


def api_status(client, access_token: str) -> int:
    return client.get("/api/me", headers={"Authorization": f"Bearer {access_token}"}).status_code


def test_form_body_with_basic_credentials_works(client, get_code, oauth_client):
    response = client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": get_code(),
            "redirect_uri": oauth_client.redirect_uri,
        },
        headers=basic(oauth_client.client_id, oauth_client.client_secret),
    )
    assert response.status_code == 200, response.json
    assert response.json["token_type"] == "Bearer"


def test_json_body_with_basic_credentials_works(client, get_code, oauth_client):
    response = client.post(
        "/oauth/token",
        json={
            "grant_type": "authorization_code",
            "code": get_code(),
            "redirect_uri": oauth_client.redirect_uri,
        },
        headers=basic(oauth_client.client_id, oauth_client.client_secret),
    )
    assert response.status_code == 200, response.json


@pytest.mark.parametrize(
    "body, content_type",
    [
        ("{not json", "application/json"),
        ("[1, 2]", "application/json"),
        ('{"grant_type": ["authorization_code"]}', "application/json"),
    ],
)
def test_unreadable_bodies_get_a_json_error(client, body, content_type):
    response = client.post("/oauth/token", data=body, content_type=content_type)
    assert response.status_code == 400
    assert response.json["error"] == "invalid_request"
    assert response.json["error_description"]


@pytest.mark.parametrize("grant_type", ["password", "client_credentials", "implicit", None])
def test_oa04_only_code_and_refresh_grants(client, oauth_client, grant_type):
    response = client.post(
        "/oauth/token",
        data={"grant_type": grant_type, "username": "a@b.c", "password": "x"} if grant_type else {},
        headers=basic(oauth_client.client_id, oauth_client.client_secret),
    )
    assert response.status_code == 400
    assert response.json["error"] == "unsupported_grant_type"


def test_oa10_a_code_works_once_and_a_replay_revokes_its_tokens(
    client, get_code, exchange, oauth_client
):
    code = get_code()
    first = exchange(code)
    assert first.status_code == 200
    assert api_status(client, first.json["access_token"]) == 200
    second = exchange(code)
    assert second.status_code == 400
    assert second.json["error"] == "invalid_grant"
    assert api_status(client, first.json["access_token"]) == 401
    assert refresh(client, oauth_client, first.json["refresh_token"]).status_code == 400


def test_oa11_expired_code_is_refused(app, get_code, exchange):
    code = get_code()
    with app.app_context():
        db.session.execute(
            sa.update(AuthorizationCode).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    response = exchange(code)
    assert response.status_code == 400
    assert response.json == {
        "error": "invalid_grant",
        "error_description": "The authorization code has expired.",
    }


def test_oa11_codes_live_as_configured(app, get_code):
    get_code()
    with app.app_context():
        row = db.session.scalar(sa.select(AuthorizationCode))
        assert timedelta(seconds=295) < row.expires_at - row.created_at <= timedelta(seconds=300)


def test_oa12_code_is_bound_to_its_client(app, get_code, exchange):
    other = make_oauth_client(app, name="Other")
    response = exchange(get_code(), creds=other)
    assert response.status_code == 400 and response.json["error"] == "invalid_grant"


def test_oa12_code_is_bound_to_its_redirect_uri(app, get_code, exchange, oauth_client):
    from plugin.oauth.clients.manage import find_client, update_client

    with app.app_context():
        update_client(
            find_client(oauth_client.client_id),
            redirect_uris=[oauth_client.redirect_uri, "https://chatgpt.com/cb2"],
        )
        db.session.commit()
    response = exchange(get_code(), redirect_uri="https://chatgpt.com/cb2")
    assert response.status_code == 400 and response.json["error"] == "invalid_grant"


def test_oa13_wrong_secret_is_401_with_www_authenticate(client, get_code, exchange):
    response = exchange(get_code(), client_secret="wrong")
    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic ")


def test_oa13_secret_in_the_query_string_is_refused(client, get_code, oauth_client):
    response = client.post(
        f"/oauth/token?client_secret={oauth_client.client_secret}",
        data={
            "grant_type": "authorization_code",
            "code": get_code(),
            "client_id": oauth_client.client_id,
            "redirect_uri": oauth_client.redirect_uri,
        },
    )
    assert response.status_code == 400
    assert response.json["error"] == "invalid_request"
    assert "never in the URL" in response.json["error_description"]


def test_oa13_repeated_client_auth_failures_are_throttled(client, oauth_client):
    statuses = [
        client.post(
            "/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": "x"},
            headers=basic(oauth_client.client_id, f"guess-{i}"),
        ).status_code
        for i in range(12)
    ]
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]
    # The right secret from the same address is throttled too until the window passes.
    response = refresh(client, oauth_client, "x")
    assert response.status_code == 429


def test_oa14_token_responses_are_never_cached(client, get_code, exchange):
    for response in (exchange(get_code()), exchange("bogus")):
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Pragma"] == "no-cache"


def test_oa15_refresh_rotates_and_reuse_revokes_the_family(client, oauth_client, tokens):
    r2 = refresh(client, oauth_client, tokens["refresh_token"])
    assert r2.status_code == 200
    r3 = refresh(client, oauth_client, r2.json["refresh_token"])
    assert r3.status_code == 200
    replay = refresh(client, oauth_client, tokens["refresh_token"])
    assert replay.status_code == 400 and replay.json["error"] == "invalid_grant"
    # Everything descended from the first grant is gone, including the newest pair.
    assert api_status(client, r3.json["access_token"]) == 401
    assert refresh(client, oauth_client, r3.json["refresh_token"]).status_code == 400


def test_oa15_refreshing_retires_the_old_access_token(client, oauth_client, tokens):
    assert refresh(client, oauth_client, tokens["refresh_token"]).status_code == 200
    assert api_status(client, tokens["access_token"]) == 401


def test_oa16_refresh_is_bound_to_its_client(app, client, tokens):
    other = make_oauth_client(app, name="Other")
    response = refresh(client, other, tokens["refresh_token"])
    assert response.status_code == 400 and response.json["error"] == "invalid_grant"


def test_oa16_refresh_cannot_widen_the_scope(client, oauth_client, get_code, exchange):
    narrow = exchange(get_code(scope="todos:read")).json
    assert narrow["scope"] == "todos:read"
    wider = refresh(client, oauth_client, narrow["refresh_token"], scope="todos:read todos:write")
    assert wider.status_code == 400 and wider.json["error"] == "invalid_scope"
    same = refresh(client, oauth_client, narrow["refresh_token"], scope="todos:read")
    assert same.status_code == 200 and same.json["scope"] == "todos:read"


def test_oa17_expired_refresh_token_is_refused(app, client, oauth_client, tokens):
    with app.app_context():
        db.session.execute(
            sa.update(OAuthToken).values(refresh_expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    response = refresh(client, oauth_client, tokens["refresh_token"])
    assert response.status_code == 400 and response.json["error"] == "invalid_grant"


def test_only_digests_are_stored(app, tokens, get_code):
    code = get_code()
    with app.app_context():
        stored = " ".join(
            str(value)
            for model in (OAuthToken, AuthorizationCode)
            for row in db.session.scalars(sa.select(model))
            for value in vars(row).values()
        )
    for secret in (tokens["access_token"], tokens["refresh_token"], code):
        assert secret not in stored


def test_pkce_s256_round_trip(client, get_code, exchange):
    verifier, challenge = pkce_pair()
    code = get_code(code_challenge=challenge, code_challenge_method="S256")
    assert exchange(code, code_verifier=verifier).status_code == 200


def test_oa06_plain_pkce_is_refused(signed_in, oauth_client):
    from tests.oauth.oauth_helpers import authorize_url, callback_params

    for method in ("plain", None):
        params = callback_params(
            signed_in.get(
                authorize_url(
                    oauth_client, code_challenge="a" * 43, code_challenge_method=method, state="s"
                )
            )
        )
        assert params["error"] == "invalid_request" and params["state"] == "s"


def test_oa07_wrong_or_missing_verifier_is_refused(get_code, exchange):
    verifier, challenge = pkce_pair()
    code = get_code(code_challenge=challenge, code_challenge_method="S256")
    wrong = exchange(code, code_verifier=pkce_pair()[0])
    assert wrong.status_code == 400 and wrong.json["error"] == "invalid_grant"
    missing = exchange(code)
    assert missing.status_code == 400 and missing.json["error"] in (
        "invalid_request",
        "invalid_grant",
    )
    # A failed verifier does not burn the code for its rightful holder.
    assert exchange(code, code_verifier=verifier).status_code == 200


def test_oa08_verifier_for_a_code_issued_without_challenge_is_refused(get_code, exchange):
    response = exchange(get_code(), code_verifier=pkce_pair()[0])
    assert response.status_code == 400
    assert response.json["error"] in ("invalid_request", "invalid_grant")


def test_public_client_exchanges_with_pkce_and_no_secret(app, client, auth):
    from plugin.oauth.clients.manage import create_client
    from tests.oauth.oauth_helpers import allow, authorize_url, callback_params

    make_user(app, "desk@example.com")
    auth.login("desk@example.com")
    with app.app_context():
        public, secret = create_client("Desktop", ["http://127.0.0.1:8765/cb"], public=True)
        db.session.commit()
        client_id = public.client_id
    assert secret is None

    class Creds:
        redirect_uri = "http://127.0.0.1:8765/cb"

    Creds.client_id = client_id
    verifier, challenge = pkce_pair()
    code = callback_params(
        allow(client, authorize_url(Creds, code_challenge=challenge, code_challenge_method="S256"))
    )["code"]
    body = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": client_id,
        "redirect_uri": Creds.redirect_uri,
    }
    assert client.post("/oauth/token", data=body).status_code == 400
    response = client.post("/oauth/token", data={**body, "code_verifier": verifier})
    assert response.status_code == 200, response.json


def test_oa18_codes_and_tokens_carry_enough_entropy(tokens, get_code):
    import math

    for value in (tokens["access_token"], tokens["refresh_token"], get_code()):
        alphabet = 64 if any(c in "-_" for c in value) else 62
        assert len(value) * math.log2(alphabet) >= 160


def test_oa18_no_duplicates_in_100000_values():
    from plugin.digests import new_secret

    values = {new_secret() for _ in range(100_000)}
    assert len(values) == 100_000


def test_disabled_user_gets_no_tokens(app, client, oauth_client, get_code, exchange, tokens):
    from plugin.accounts.models import User
    from plugin.accounts.services import set_disabled

    code = get_code(state="later")
    with app.app_context():
        set_disabled(
            db.session.scalar(sa.select(User).where(User.email == "person@example.com")), True
        )
        db.session.commit()
    assert exchange(code).json["error"] == "invalid_grant"
    assert refresh(client, oauth_client, tokens["refresh_token"]).status_code == 400
    assert api_status(client, tokens["access_token"]) == 401


def test_a_clients_last_use_is_kept_to_the_minute(app, client, oauth_client, tokens):
    def last_used():
        with app.app_context():
            return db.session.get(OAuthClient, oauth_client.id).last_used_at

    first = last_used()
    assert first is not None  # the code exchange that issued ``tokens``
    again = refresh(client, oauth_client, tokens["refresh_token"])
    assert again.status_code == 200
    assert last_used() == first  # within the minute: not written again
    with app.app_context():
        db.session.execute(
            sa.update(OAuthClient)
            .where(OAuthClient.id == oauth_client.id)
            .values(last_used_at=utcnow() - timedelta(minutes=2))
        )
        db.session.commit()
    assert refresh(client, oauth_client, again.json["refresh_token"]).status_code == 200
    assert utcnow() - last_used() < timedelta(minutes=1)
