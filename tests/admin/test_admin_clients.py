"""Admin → Clients: create (secret shown once), edit, rotate, disable, delete."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from plugin.audit.models import AuditEvent
from plugin.digests import digest
from plugin.extensions import db
from plugin.oauth.models import Consent, OAuthClient, OAuthToken
from tests.helpers import PASSWORD, REDIRECT_URI, make_token

NEW_URI = "https://chatgpt.com/aip/g-0123abcd/oauth/callback"


def shown(html: str, label: str) -> str:
    """The value the setup panel shows after ``label``."""
    match = re.search(rf"<dt>{label}</dt><dd>(?:<span[^>]*>)?<code[^>]*>([^<]+)</code>", html)
    assert match, f"no {label} on the page"
    return match.group(1)


def create(forms, name="ChatGPT", uris=REDIRECT_URI, scopes=("todos:read", "todos:write")):
    """Submit the new-client form; a created client's secret page is followed to."""
    response = forms.post(
        "/admin/clients/new",
        "/admin/clients/new",
        {"name": name, "redirect_uris": uris, "scopes": list(scopes)},
    )
    return follow(forms.client, response)


def follow(client, response):
    """Follow a 303 from a form that makes a secret: never a secret in the URL or cookie."""
    if response.status_code != 303:
        return response
    location = response.headers["Location"]
    assert re.fullmatch(r"/admin/clients/\d+/secret", location), location
    page = client.get(location)
    page.posted = response
    return page


def probe_token_endpoint(client, client_id: str, secret: str) -> tuple[int, str]:
    """Authenticate at /oauth/token with a bogus refresh token: 401 wrong secret, 400 right."""
    response = client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": "not-a-real-refresh-token",
            "client_id": client_id,
            "client_secret": secret,
        },
    )
    return response.status_code, response.get_json()["error"]


def events(app, name: str) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.event == name)).all()
        db.session.expunge_all()
        return list(rows)


def the_client(app, client_id: str) -> OAuthClient:
    with app.app_context():
        row = db.session.scalar(sa.select(OAuthClient).where(OAuthClient.client_id == client_id))
        db.session.expunge_all()
        return row


def test_the_new_client_form_offers_name_redirect_uris_and_the_scopes(admin):
    page = admin.get("/admin/clients").get_data(as_text=True)
    assert 'href="/admin/clients/new"' in page and "New client" in page
    html = admin.get("/admin/clients/new").get_data(as_text=True)
    assert '<label for="name">Name</label>' in html
    assert '<label for="redirect_uris">Redirect URIs</label>' in html
    for scope in ("todos:read", "todos:write"):
        assert f'value="{scope}"' in html
    # Both todo scopes are ticked by default, as ChatGPT asks for both.
    assert html.count("checked") == 2


def test_creating_a_client_shows_the_secret_once_with_what_to_paste_into_chatgpt(app, admin, forms):
    response = create(forms, name="ChatGPT for the team", uris=f"{REDIRECT_URI}\n{NEW_URI}\n")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    client_id = shown(html, "Client ID")
    secret = shown(html, "Client Secret")
    assert "Set up in ChatGPT" in html
    assert shown(html, "Authorization URL") == "http://localhost/oauth/authorize"
    assert shown(html, "Token URL") == "http://localhost/oauth/token"
    assert shown(html, "Scope") == "todos:read todos:write"
    assert "Default (POST request)" in html
    assert "flask --app plugin settings set openai-verification-token TOKEN" in html
    assert 'href="/admin/settings"' in html
    assert REDIRECT_URI in html and NEW_URI in html
    # The secret is nowhere else: not in the session cookie, the stored row or any later page.
    for answer in (response, response.posted):
        assert secret not in (answer.headers.get("Set-Cookie") or "")
        assert secret not in answer.headers.get("Location", "")
    stored = the_client(app, client_id)
    assert stored.name == "ChatGPT for the team"
    assert stored.redirect_uris == [REDIRECT_URI, NEW_URI]
    assert stored.client_secret_hash == digest(secret) and secret not in stored.client_secret_hash
    for page in ("/admin/clients", f"/admin/clients/{stored.id}", "/admin/", "/admin/audit"):
        later = admin.get(page).get_data(as_text=True)
        assert client_id in later or page in ("/admin/",)
        assert secret not in later
    with app.app_context():
        assert secret not in str(db.session.scalars(sa.select(AuditEvent.details)).all())
    created = events(app, "client.created")
    assert created and created[0].actor_email == "admin@example.com"
    # And the credentials work at the token endpoint.
    assert probe_token_endpoint(admin, client_id, secret) == (400, "invalid_grant")


def test_reloading_the_created_page_creates_nothing_and_shows_no_secret(app, admin, forms):
    response = create(forms)
    secret = shown(response.get_data(as_text=True), "Client Secret")
    location = response.posted.headers["Location"]
    assert response.posted.status_code == 303
    # What a browser's reload does: GET the page it was redirected to.
    again = admin.get(location)
    assert again.status_code == 303
    assert again.headers["Location"] == location.removesuffix("/secret")
    page = admin.get(again.headers["Location"]).get_data(as_text=True)
    assert "The secret was shown once and cannot be shown again." in page
    assert secret not in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OAuthClient)) == 1
    assert len(events(app, "client.created")) == 1


def test_reloading_the_rotated_page_rotates_nothing_and_shows_no_secret(app, forms, oauth_client):
    page = f"/admin/clients/{oauth_client.id}"
    posted = forms.post(page, f"{page}/rotate-secret", {"password": PASSWORD})
    assert posted.status_code == 303
    new = shown(follow(forms.client, posted).get_data(as_text=True), "Client Secret")
    again = forms.client.get(posted.headers["Location"])
    assert again.status_code == 303
    assert new not in forms.client.get(again.headers["Location"]).get_data(as_text=True)
    assert len(events(app, "client.secret_rotated")) == 1
    assert the_client(app, oauth_client.client_id).client_secret_hash == digest(new)


def test_a_secret_page_shows_nothing_without_its_form(app, admin, oauth_client):
    # Opened directly (a bookmark, another admin): nothing to show, nothing made.
    response = admin.get(f"/admin/clients/{oauth_client.id}/secret")
    assert response.status_code == 303
    assert admin.get(f"/admin/clients/{oauth_client.id + 1000}/secret").status_code == 404


def test_the_setup_panel_uses_the_configured_public_origin(app, admin, forms):
    app.config["PLUGIN_BASE_URL"] = "https://todo.example.com"
    html = create(forms).get_data(as_text=True)
    assert shown(html, "Authorization URL") == "https://todo.example.com/oauth/authorize"
    assert shown(html, "Token URL") == "https://todo.example.com/oauth/token"


def test_a_bad_redirect_uri_is_explained_beside_the_field_and_nothing_is_created(app, forms):
    response = create(forms, uris="http://evil.example.com/cb")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    error = re.search(r'<p class="field-error" id="redirect_uris-error">([^<]+)</p>', html)
    assert error and "https" in error.group(1)
    assert 'value="ChatGPT"' in html  # what was typed is kept
    for bad, why in (("", "This field is required"), ("https://x.example/cb#frag", "fragment")):
        html = create(forms, uris=bad).get_data(as_text=True)
        assert why in html
    html = create(forms, scopes=()).get_data(as_text=True)
    assert "Choose at least one scope." in html
    html = create(forms, scopes=("todos:read", "root:everything")).get_data(as_text=True)
    assert "is not a valid choice for this field" in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OAuthClient)) == 0


def test_the_list_shows_each_client_with_its_grants(app, admin, user, oauth_client):
    make_token(app, user, oauth_client)
    html = admin.get("/admin/clients").get_data(as_text=True)
    assert oauth_client.client_id in html and REDIRECT_URI in html
    assert "todos:read todos:write" in html
    row = html[html.index(oauth_client.client_id) :]
    assert re.search(r"<td[^>]*>1</td>", row), "one person holds a grant"


def test_editing_a_client_changes_name_redirect_uris_and_scopes(app, forms, oauth_client):
    page = f"/admin/clients/{oauth_client.id}"
    assert REDIRECT_URI in forms.client.get(page).get_data(as_text=True)
    response = forms.post(
        page,
        f"{page}/edit",
        {
            "name": "Renamed",
            "redirect_uris": f"{NEW_URI}\r\n{REDIRECT_URI}",
            "scopes": ["todos:read"],
        },
    )
    assert response.status_code == 303 and response.headers["Location"] == page
    stored = the_client(app, oauth_client.client_id)
    assert (stored.name, stored.redirect_uris, stored.scope) == (
        "Renamed",
        [NEW_URI, REDIRECT_URI],
        "todos:read",
    )
    assert events(app, "client.updated")[0].details["fields"] == ["name", "redirect_uris", "scope"]

    response = forms.post(
        page, f"{page}/edit", {"name": "X", "redirect_uris": "ftp://x/cb", "scopes": ["todos:read"]}
    )
    assert response.status_code == 400
    assert "must be an absolute https:// URL" in response.get_data(as_text=True)
    assert the_client(app, oauth_client.client_id).name == "Renamed"


def test_rotating_asks_for_the_password_and_the_old_secret_stops_working(app, forms, oauth_client):
    page = f"/admin/clients/{oauth_client.id}"
    action = f"{page}/rotate-secret"
    old = oauth_client.client_secret
    assert probe_token_endpoint(forms.client, oauth_client.client_id, old) == (400, "invalid_grant")

    response = forms.post(page, action, {"password": "not my password"})
    assert response.status_code == 400
    assert "Your password is not correct; the secret was not changed." in response.get_data(
        as_text=True
    )
    assert the_client(app, oauth_client.client_id).client_secret_hash == digest(old)
    assert events(app, "client.secret_rotation_refused")

    response = follow(forms.client, forms.post(page, action, {"password": PASSWORD}))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert "The old secret no longer works" in html and "Set up in ChatGPT" in html
    assert shown(html, "Client ID") == oauth_client.client_id
    new = shown(html, "Client Secret")
    assert new != old
    assert probe_token_endpoint(forms.client, oauth_client.client_id, old) == (
        401,
        "invalid_client",
    )
    assert probe_token_endpoint(forms.client, oauth_client.client_id, new) == (400, "invalid_grant")
    assert events(app, "client.secret_rotated")[0].actor_email == "admin@example.com"
    assert new not in forms.client.get(page).get_data(as_text=True)


def test_disabling_a_client_stops_its_tokens_and_enabling_restores_them(
    app, forms, user, oauth_client, api_me
):
    access = make_token(app, user, oauth_client)["access_token"]
    assert api_me(access) == 200
    page = f"/admin/clients/{oauth_client.id}"
    response = forms.post(page, f"{page}/disable")
    assert response.status_code == 303 and response.headers["Location"] == page
    assert the_client(app, oauth_client.client_id).is_disabled
    assert api_me(access) == 401
    status, error = probe_token_endpoint(
        forms.client, oauth_client.client_id, oauth_client.client_secret
    )
    assert (status, error) == (401, "invalid_client")
    assert "Disabled" in forms.client.get(page).get_data(as_text=True)

    response = forms.post(page, f"{page}/enable")
    assert response.status_code == 303
    assert api_me(access) == 200
    assert probe_token_endpoint(
        forms.client, oauth_client.client_id, oauth_client.client_secret
    ) == (400, "invalid_grant")
    assert [e.event for e in events(app, "client.disabled")] == ["client.disabled"]
    assert events(app, "client.enabled")


def test_deleting_a_client_needs_confirmation_and_removes_its_tokens(
    app, forms, user, oauth_client, api_me
):
    access = make_token(app, user, oauth_client)["access_token"]
    with app.app_context():
        db.session.add(Consent(user_id=user.id, client_id=oauth_client.id, scope="todos:read"))
        db.session.commit()
    page = f"/admin/clients/{oauth_client.id}/delete"
    confirm = forms.client.get(page)
    assert confirm.status_code == 200
    assert "cannot be undone" in confirm.get_data(as_text=True)
    assert the_client(app, oauth_client.client_id) is not None  # the GET changed nothing

    response = forms.post(page, page)
    assert response.status_code == 303 and response.headers["Location"] == "/admin/clients"
    assert the_client(app, oauth_client.client_id) is None
    assert api_me(access) == 401
    status, error = probe_token_endpoint(
        forms.client, oauth_client.client_id, oauth_client.client_secret
    )
    assert (status, error) == (401, "invalid_client")
    with app.app_context():
        for model in (OAuthToken, Consent):
            assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0
    deleted = events(app, "client.deleted")
    assert deleted[0].actor_email == "admin@example.com" and deleted[0].details["name"] == "ChatGPT"
    assert forms.client.get(f"/admin/clients/{oauth_client.id}").status_code == 404


def test_refused_edits_and_rotations_explain_themselves(app, forms, oauth_client):
    page = f"/admin/clients/{oauth_client.id}"
    response = forms.post(
        page, f"{page}/edit", {"name": "", "redirect_uris": REDIRECT_URI, "scopes": ["todos:read"]}
    )
    assert response.status_code == 400
    assert 'id="name-error"' in response.get_data(as_text=True)
    eleven = "\n".join(f"https://chatgpt.com/aip/g-{n}/oauth/callback" for n in range(11))
    response = forms.post(
        page, f"{page}/edit", {"name": "X", "redirect_uris": eleven, "scopes": ["todos:read"]}
    )
    assert response.status_code == 400
    assert "At most 10 redirect URIs" in response.get_data(as_text=True)
    assert the_client(app, oauth_client.client_id).name == "ChatGPT"

    response = forms.post(page, f"{page}/rotate-secret", {"password": ""})
    assert response.status_code == 400
    assert 'id="password-error"' in response.get_data(as_text=True)
    assert the_client(app, oauth_client.client_id).client_secret_hash == digest(
        oauth_client.client_secret
    )


def test_a_public_client_has_no_secret_to_rotate(app, forms):
    from plugin.oauth.clients.manage import create_client

    with app.app_context():
        client, secret = create_client("CLI tool", [REDIRECT_URI], public=True)
        db.session.commit()
        row_id = client.id
    assert secret is None
    page = f"/admin/clients/{row_id}"
    html = forms.client.get(page).get_data(as_text=True)
    assert "Public (no secret, PKCE required)" in html and "Rotate secret" not in html
    response = forms.post(page, f"{page}/rotate-secret", {"password": PASSWORD})
    assert response.status_code == 409
    assert "A public client has no secret to rotate." in response.get_data(as_text=True)


def test_in03_a_client_name_or_uri_with_a_control_character_is_a_form_error(app, forms):
    response = create(forms, name="Chat\x1b[2JGPT", uris=f"{REDIRECT_URI}\r\n")
    assert response.status_code == 400
    assert "Remove the control character U+001B" in response.get_data(as_text=True)
    response = create(forms, uris=f"{REDIRECT_URI}\r\n{NEW_URI}\x0b")
    assert response.status_code == 400
    assert "Remove the control character U+000B" in response.get_data(as_text=True)
    assert events(app, "client.created") == []


@pytest.mark.parametrize(
    ("name", "uris"),
    [("Chat\u202eGPT", REDIRECT_URI), ("Team", "https://chatgpt.com\u200b/aip/g-1/oauth/callback")],
)
def test_oa32_the_new_client_form_refuses_format_characters(app, forms, name, uris):
    response = create(forms, name=name, uris=uris)
    assert response.status_code == 400
    assert "invisible formatting character" in response.get_data(as_text=True)
    assert events(app, "client.created") == []
