"""The account page's linked sign-ins: listed, linked from there, unlinked (never the last
way in); deleting the account and downloading its data include them; Admin → Settings
lists the providers."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from plugin.accounts.upstream.models import UpstreamIdentity
from plugin.extensions import db
from tests.clients.oidc_provider import sign_in_at
from tests.helpers import PASSWORD, csrf_token_from


@pytest.fixture
def provider(oidc_provider):
    return oidc_provider


@pytest.fixture
def app_config(app_config, provider):
    return {**app_config, **provider.settings()}


def come_back(client, callback_url: str):
    parts = urlsplit(callback_url)
    return client.get(f"{parts.path}?{parts.query}")


def count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(UpstreamIdentity))


def link(client, password: str | None):
    """Press "Link Test ID" on the account page, with ``password`` if the form asks one."""
    page = client.get("/account").get_data(as_text=True)
    assert "Link Test ID" in page
    data = {"csrf_token": csrf_token_from(page)}
    if password is not None:
        data["link-test-password"] = password
    return client.post("/account/upstream/link/test", data=data)


def test_linking_asks_for_the_password_again(app, auth, user):
    auth.login(user.email)
    refused = link(auth.client, "not the password")
    assert refused.status_code == 200
    assert "Your password is not correct." in refused.get_data(as_text=True)
    assert link(auth.client, None).status_code == 200
    started = link(auth.client, PASSWORD)
    assert started.status_code == 303
    assert started.headers["Location"].startswith(f"{provider_issuer(app)}/auth?")


def provider_issuer(app) -> str:
    return app.config["UPSTREAM_TEST_DISCOVERY_URL"].removesuffix(
        "/.well-known/openid-configuration"
    )


def test_an_account_without_password_links_right_after_signing_in(app, client):
    come_back(client, sign_in_at(client.get("/login/with/test").headers["Location"], "alice"))
    page = client.get("/account").get_data(as_text=True)
    assert "no password is asked" in page
    assert link(client, None).status_code == 303


def test_a_refused_link_leads_back_to_the_account(app, auth, user):
    auth.login(user.email)
    authorize = link(auth.client, PASSWORD).headers["Location"]
    refused = come_back(auth.client, sign_in_at(authorize, "mallory"))
    assert refused.status_code == 403
    page = refused.get_data(as_text=True)
    assert "Back to your account" in page and "Try Test ID again" not in page
    assert count(app) == 0


def test_link_from_the_account_page_then_unlink(app, auth, user):
    auth.login(user.email)
    client = auth.client
    authorize = link(client, PASSWORD).headers["Location"]
    back = come_back(client, sign_in_at(authorize, "alice"))
    assert back.status_code == 303 and back.headers["Location"] == "/account"
    page = client.get("/account").get_data(as_text=True)
    assert "alice@example.com" in page and count(app) == 1
    # The provider's label, as on the login page, not its name in the settings.
    assert "Test ID · alice@example.com" in page

    exported = client.post("/account/export", data={"csrf_token": csrf_token_from(page)})
    document = json.loads(exported.get_data(as_text=True))
    assert document["upstream_identities"][0]["email"] == "alice@example.com"

    with app.app_context():
        identity_id = db.session.scalar(sa.select(UpstreamIdentity.id))
    token = csrf_token_from(page)
    unlinked = client.post(f"/account/upstream/{identity_id}/unlink", data={"csrf_token": token})
    assert count(app) == 0
    flashed = client.get(unlinked.headers["Location"]).get_data(as_text=True)
    assert "Test ID (alice@example.com) no longer signs you in." in flashed


def test_the_last_way_in_cannot_be_unlinked(app, client):
    come_back(client, sign_in_at(client.get("/login/with/test").headers["Location"], "alice"))
    page = client.get("/account").get_data(as_text=True)
    with app.app_context():
        identity_id = db.session.scalar(sa.select(UpstreamIdentity.id))
    answer = client.post(
        f"/account/upstream/{identity_id}/unlink", data={"csrf_token": csrf_token_from(page)}
    )
    assert "This is the only way you sign in" in client.get(answer.headers["Location"]).text
    assert count(app) == 1


def test_deleting_the_account_deletes_its_identities(app, client):
    come_back(client, sign_in_at(client.get("/login/with/test").headers["Location"], "alice"))
    page = client.get("/account").get_data(as_text=True)
    # Signed in with the provider a moment ago: that stands for a password it does not have.
    answer = client.post(
        "/account/delete",
        data={"csrf_token": csrf_token_from(page), "delete_password": "", "understood": "y"},
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)
    assert count(app) == 0


def test_admin_settings_list_the_providers(app, auth, admin_user):
    auth.login(admin_user.email, PASSWORD)
    page = auth.client.get("/admin/settings").get_data(as_text=True)
    assert "Continue with Test ID" in page and "plugin-tests" in page
