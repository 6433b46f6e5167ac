"""Journey: ChatGPT's authorize link → "Continue with …" → the provider's login page (a real
OpenID Connect provider, oidc-provider) → back → consent → code → token, in Chromium."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from plugin.accounts.models import User
from plugin.extensions import db
from tests.e2e.chatgpt import http
from tests.e2e.install import answer_consent, open_install, sign_up

# The provider's own development pages ask for a web font; the browser resolves no host.
FONTS = "https://fonts.googleapis.com/"


@pytest.fixture
def provider(oidc_provider):
    return oidc_provider


@pytest.fixture
def live_server_env(live_server_env, provider):
    return {**live_server_env, **provider.settings()}


def sign_in_at_provider(page, login: str) -> None:
    expect(page.locator("input[name=login]")).to_be_visible()
    page.shots("provider-login")
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password")
    page.locator("button[type=submit]").click()
    # The provider asks its native clients' users for consent each time.
    expect(page.get_by_role("heading", name="Authorize")).to_be_visible()
    page.locator("button[type=submit]").click()


def test_new_person_installs_with_the_provider(app, page, chatgpt, catcher, chatgpt_client):
    state = open_install(page, chatgpt, chatgpt_client)
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.shots("login-with-provider-button")
    page.get_by_role("link", name="Continue with Test ID").click()
    sign_in_at_provider(page, "alice")
    callback = answer_consent(page, catcher, "ChatGPT", "Allow")
    catcher.leaks[:] = [url for url in catcher.leaks if not url.startswith(FONTS)]
    assert callback.params.get("state") == state, callback.params
    tokens = chatgpt.exchange_code(chatgpt_client, callback.params["code"])
    me = http("GET", f"{chatgpt.base_url}/api/me", bearer=tokens["access_token"])
    assert me.status == 200 and me.json()["email"] == "alice@example.com", me
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "alice@example.com"))
        assert user is not None and user.password_hash is None


def test_refused_address_keeps_the_install(app, page, chatgpt, catcher, chatgpt_client):
    state = open_install(page, chatgpt, chatgpt_client)
    page.get_by_role("link", name="Continue with Test ID").click()
    sign_in_at_provider(page, "mallory")
    expect(page.get_by_role("heading", name="Your e-mail address is not verified")).to_be_visible()
    page.shots("unverified")
    # "Choose another way" leads back to the login page of the same install.
    page.get_by_role("link", name="Choose another way to sign in").click()
    sign_up(page, "mallory@example.net")
    callback = answer_consent(page, catcher, "ChatGPT", "Allow")
    catcher.leaks[:] = [url for url in catcher.leaks if not url.startswith(FONTS)]
    assert callback.params.get("state") == state, callback.params
