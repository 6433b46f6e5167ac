"""Signing in with an account at a real OpenID Connect provider (oidc-provider on loopback):
new accounts from verified addresses only, existing accounts linked only after proof, and
the pending install carried through the round trip."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import sqlalchemy as sa

from plugin.accounts.models import User
from plugin.accounts.upstream.models import UpstreamIdentity
from plugin.audit.models import AuditEvent
from plugin.extensions import db
from tests.clients.oidc_provider import sign_in_at
from tests.helpers import PASSWORD, csrf_token_from

NEXT = "/oauth/authorize?response_type=code&client_id=abc&state=s-1"


@pytest.fixture
def provider(oidc_provider):
    return oidc_provider


@pytest.fixture
def app_config(app_config, provider):
    return {**app_config, **provider.settings()}


def start(client, next_path: str | None = NEXT) -> str:
    """Press "Continue with Test ID"; return the provider's authorization URL."""
    query = f"?next={quote(next_path, safe='')}" if next_path else ""
    page = client.get(f"/login{query}").get_data(as_text=True)
    href = button_link(page, "Continue with Test ID")
    assert href.startswith("/login/with/test")
    assert parse_qs(urlsplit(href).query).get("next") == ([next_path] if next_path else None)
    response = client.get(href)
    assert response.status_code == 303
    return response.headers["Location"]


def button_link(page: str, words: str) -> str:
    match = re.search(r'href="([^"]+)"[^>]*>' + re.escape(words), page)
    assert match, f"no link {words!r} on the page"
    return html.unescape(match.group(1))


def come_back(client, callback_url: str):
    parts = urlsplit(callback_url)
    return client.get(f"{parts.path}?{parts.query}")


def users(app) -> list[User]:
    with app.app_context():
        return list(db.session.scalars(sa.select(User).order_by(User.id)))


def identities(app) -> list[tuple[int, str, str]]:
    with app.app_context():
        rows = db.session.scalars(sa.select(UpstreamIdentity).order_by(UpstreamIdentity.id))
        return [(row.user_id, row.provider, row.email) for row in rows]


def test_authorization_request_sends_state_nonce_and_pkce(client):
    query = parse_qs(urlsplit(start(client)).query)
    assert "prompt" not in query
    assert query["code_challenge_method"] == ["S256"]
    for name in ("state", "nonce", "code_challenge"):
        assert len(query[name][0]) >= 20, name
    assert query["redirect_uri"] == ["http://localhost/login/with/test/callback"]


def test_first_sign_in_makes_an_account_and_resumes_the_install(app, client):
    response = come_back(client, sign_in_at(start(client), "alice"))
    assert response.status_code == 303
    assert response.headers["Location"] == NEXT
    [user] = users(app)
    assert user.email == "alice@example.com"
    assert user.password_hash is None and user.email_verified_at is not None
    assert identities(app) == [(user.id, "test", "alice@example.com")]
    assert "alice@example.com" in client.get("/account").get_data(as_text=True)

    # The second time the same account signs in; no second account.
    client.post("/logout", data={"csrf_token": csrf_token_from(client.get("/account").text)})
    again = come_back(client, sign_in_at(start(client, "/account"), "alice"))
    assert again.headers["Location"] == "/account"
    assert len(users(app)) == 1


def test_unverified_address_makes_no_account(app, client):
    response = come_back(client, sign_in_at(start(client), "mallory"))
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "not verified" in page
    # The way back resumes the same install.
    again = button_link(page, "Try Test ID again")
    assert parse_qs(urlsplit(again).query)["next"] == [NEXT]
    assert users(app) == []

    # Trying again asks the provider for a fresh sign-in (it offers no account chooser), so
    # the person can use another account there.
    authorize = client.get(again).headers["Location"]
    assert parse_qs(urlsplit(authorize).query)["prompt"] == ["login"]
    response = come_back(client, sign_in_at(authorize, "alice"))
    assert response.status_code == 303 and response.headers["Location"] == NEXT
    assert [user.email for user in users(app)] == ["alice@example.com"]


def test_unverified_address_never_links_an_existing_account(app, client, user):
    response = come_back(client, sign_in_at(start(client), "mallory"))
    assert response.status_code == 403
    assert identities(app) == []
    assert "You are signed in" not in client.get("/login").get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_existing_account_is_linked_only_after_its_password(app, client, user):
    response = come_back(client, sign_in_at(start(client), "person"))
    assert response.status_code == 303
    link_url = response.headers["Location"]
    assert link_url.startswith("/login/with/link?t=")
    # Nothing linked, nobody signed in yet.
    assert identities(app) == []
    page = client.get(link_url).get_data(as_text=True)
    assert "An account for <strong>person@example.com</strong> exists" in page
    token = csrf_token_from(page)
    wrong = client.post(link_url, data={"csrf_token": token, "password": "not it"})
    assert "The password is not correct." in wrong.get_data(as_text=True)
    assert identities(app) == []
    assert client.get("/account").status_code == 302

    right = client.post(link_url, data={"csrf_token": token, "password": PASSWORD})
    assert right.status_code == 303 and right.headers["Location"] == NEXT
    assert identities(app) == [(user.id, "test", "person@example.com")]
    with app.app_context():
        kinds = set(db.session.scalars(sa.select(AuditEvent.event)))
    assert {"user.upstream_linked", "user.login"} <= kinds


def test_replayed_callback_signs_nobody_in(app, client):
    callback = sign_in_at(start(client), "alice")
    assert come_back(client, callback).status_code == 303
    client.post("/logout", data={"csrf_token": csrf_token_from(client.get("/account").text)})
    replay = come_back(client, callback)
    assert replay.status_code == 400
    assert "This sign-in has expired" in replay.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_swapped_state_is_refused(app, client):
    callback = sign_in_at(start(client), "alice")
    other = app.test_client()
    start(other)
    # Another browser's answer (a login CSRF): its state is not this browser's.
    response = come_back(other, callback)
    assert response.status_code == 400
    assert users(app) == []
