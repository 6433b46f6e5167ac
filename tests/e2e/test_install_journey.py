"""Journeys 1 and 2: ChatGPT installs the plugin; the person allows it, or denies it."""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from playwright.sync_api import expect

from plugin.extensions import db
from plugin.oauth.models import Consent, OAuthToken
from tests.e2e.api_tour import call_every_operation
from tests.e2e.chatgpt import http
from tests.e2e.install import install
from tests.e2e.openapi_calls import ApiDocument


def test_install_sign_up_consent_every_operation_refresh(
    live_server, page, chatgpt, catcher, chatgpt_client
):
    manifest = chatgpt.manifest
    # ChatGPT refuses endpoints off the manifest's origin.
    origin = urlsplit(live_server.url).netloc
    for url in (
        manifest["auth"]["client_url"],
        manifest["auth"]["authorization_url"],
        manifest["api"]["url"],
    ):
        assert urlsplit(url).netloc == origin, url

    callback, _ = install(page, chatgpt, catcher, chatgpt_client, "installer@example.com")
    assert "error" not in callback.params, callback.params
    tokens = chatgpt.exchange_code(chatgpt_client, callback.params["code"])
    assert set(tokens["scope"].split()) == set(manifest["auth"]["scope"].split())

    document = ApiDocument(chatgpt)
    tour = call_every_operation(document, tokens["access_token"])

    # The link in an item is a page with its preview in the first HTML; show it to a person.
    preview = tour.created["url"]
    html = http("GET", preview, headers={"Accept": "text/html"})
    assert html.status == 200, html
    for tag in ("og:site_name", "og:title", "og:description", "og:image", "og:url"):
        assert f'property="{tag}"' in html.body.decode(), tag
    page.goto(preview)
    expect(page.locator("main")).to_contain_text(tour.created["title"])
    page.shots("item-preview")

    refreshed = chatgpt.refresh_tokens(chatgpt_client, tokens["refresh_token"])
    assert refreshed["access_token"] != tokens["access_token"]
    me = document.call("getMe", refreshed["access_token"], 200).json()
    assert me["email"] == "installer@example.com", me

    # The code was good once: a replayed exchange gets nothing, and since a replay means the
    # code may have leaked, the tokens it produced are revoked.
    retry = chatgpt.exchange(chatgpt_client, callback.params["code"])
    assert retry.status == 400 and retry.json()["error"] == "invalid_grant", retry
    document.call("getMe", refreshed["access_token"], 401)


def test_install_denied(app, page, chatgpt, catcher, chatgpt_client):
    callback, state = install(
        page, chatgpt, catcher, chatgpt_client, "denier@example.com", button="Deny"
    )
    assert callback.params["error"] == "access_denied", callback.params
    assert callback.params["state"] == state
    assert "code" not in callback.params, callback.params
    # Nothing was granted: no consent remembered, no token issued.
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Consent)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OAuthToken)) == 0
