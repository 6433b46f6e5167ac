"""Passkeys: add one on /account, sign in with it instead of the password (in the middle of
an install too), and every wrong answer refused in words, with nothing signed in."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import sqlalchemy as sa

from plugin.accounts.models import Passkey, PasskeyChallenge, User, UserSession
from plugin.extensions import db
from plugin.mail.models import MailMessage
from tests.accounts.account_helpers import audit_events, is_signed_in
from tests.accounts.passkey_helpers import PasskeyActions, SoftPasskey
from tests.helpers import PASSWORD, AuthActions, csrf_token_from, make_user

NO_CEREMONY = "This passkey request has expired or was already used. Press the button again."
UNKNOWN = "This passkey does not open an account here"


@pytest.fixture
def passkeys(client) -> PasskeyActions:
    return PasskeyActions(client)


@pytest.fixture
def passkey(auth, user, passkeys) -> SoftPasskey:
    """A passkey ``user`` added on /account; the client is signed out again afterwards."""
    key = SoftPasskey()
    assert auth.login(user.email).status_code == 303
    added = passkeys.add(key, "Laptop")
    assert added.status_code == 200, added.get_json()
    auth.logout()
    return key


def _passkey_rows(app) -> list[Passkey]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Passkey).order_by(Passkey.id)))
        db.session.expunge_all()
        return rows


def _refusal(response, status: int = 400) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()["error_description"]


def test_a_person_adds_a_passkey_and_signs_in_with_it_instead_of_the_password(
    app, client, auth, user, passkeys
):
    assert auth.login(user.email).status_code == 303
    page = client.get("/account").get_data(as_text=True)
    assert "You have no passkeys yet." in page
    assert 'data-passkey="register"' in page and "passkeys.js" in page

    key = SoftPasskey()
    added = passkeys.add(key, "Work laptop")
    assert added.status_code == 200, added.get_json()
    assert added.get_json() == {"redirect": "/account#passkeys-heading"}
    page = client.get("/account").get_data(as_text=True)
    assert "Passkey “Work laptop” added." in page
    assert "Work laptop" in page and "not used yet" in page
    [row] = _passkey_rows(app)
    assert row.credential_id == key.id and row.transports == "internal"
    assert [e.details["name"] for e in audit_events(app, "user.passkey_added")] == ["Work laptop"]
    with app.app_context():
        notice = db.session.scalar(
            sa.select(MailMessage).where(MailMessage.kind == "passkey_added")
        )
        assert notice.to_address == user.email and "“Work laptop”" in notice.body_text

    auth.logout()
    assert not is_signed_in(client)
    signed_in = passkeys.sign_in(key)
    assert signed_in.status_code == 200, signed_in.get_json()
    assert signed_in.get_json() == {"redirect": "/account"}
    assert is_signed_in(client)
    with app.app_context():
        sessions = db.session.scalars(sa.select(UserSession.signed_in_with)).all()
    assert sessions == ["passkey"]  # a new session; the password one ended at logout
    assert "last used" in client.get("/account").get_data(as_text=True)
    logins = audit_events(app, "user.login")
    assert [e.details["method"] for e in logins] == ["password", "passkey"]
    assert _passkey_rows(app)[0].sign_count == key.sign_count == 1


def test_signing_in_with_a_passkey_in_the_middle_of_an_install_lands_on_its_consent(
    app, client, user, passkey, passkeys, oauth_client
):
    query = urlencode(
        {
            "response_type": "code",
            "client_id": oauth_client.client_id,
            "redirect_uri": oauth_client.redirect_uri,
            "scope": "todos:read",
            "state": "waiting & ready",
        }
    )
    authorize = f"/oauth/authorize?{query}"
    login_url = client.get(authorize).location
    assert login_url.startswith("/login?next=")
    login_page = client.get(login_url).get_data(as_text=True)
    assert "Sign in with a passkey" in login_page
    next_target = parse_qs(urlsplit(login_url).query)["next"][0]

    signed_in = passkeys.sign_in(passkey, next=next_target)
    assert signed_in.get_json() == {"redirect": authorize}
    consent = client.get(authorize)
    html = consent.get_data(as_text=True)
    assert consent.status_code == 200 and "ChatGPT" in html and "Allow" in html
    allowed = client.post(
        authorize, data={"csrf_token": csrf_token_from(html), "decision": "allow"}
    )
    params = parse_qs(urlsplit(allowed.location).query)
    assert allowed.location.startswith(oauth_client.redirect_uri + "?")
    assert params["state"] == ["waiting & ready"] and params["code"]


def test_a_foreign_next_target_falls_back_to_the_account_page(client, passkey, passkeys):
    signed_in = passkeys.sign_in(passkey, next="https://evil.example/")
    assert signed_in.get_json() == {"redirect": "/account"}


def test_an_answer_without_options_asked_first_is_refused(app, client, passkey, passkeys):
    credential = passkey.get({"challenge": "AAAA", "rpId": "localhost"})
    refused = passkeys.post("/login/passkey", {"credential": credential})
    assert _refusal(refused) == NO_CEREMONY
    assert refused.get_json()["field"] == "passkey"
    assert not is_signed_in(client)
    [failed] = audit_events(app, "user.passkey_login_failed")
    assert failed.details == {"reason": "no_challenge"}


def test_a_replayed_answer_is_refused_even_with_the_old_cookie(app, client, passkey, passkeys):
    token = passkeys.csrf()
    credential = passkey.get(passkeys.login_options(token))
    cookie_with_challenge = client.get_cookie("session").value
    first = passkeys.post("/login/passkey", {"credential": credential}, token)
    assert first.status_code == 200
    passkeys.client.post("/logout", data={"csrf_token": passkeys.csrf("/account")})

    # The copy of the cookie still names the challenge; the site has spent it.
    client.set_cookie("session", cookie_with_challenge)
    replay = passkeys.post("/login/passkey", {"credential": credential}, token)
    assert _refusal(replay) == NO_CEREMONY
    assert not is_signed_in(client)
    assert len(audit_events(app, "user.login")) == 2  # the password login and the first one


def test_an_expired_challenge_is_refused(app, client, passkey, passkeys):
    app.config["PASSKEY_CHALLENGE_TTL"] = 0
    assert _refusal(passkeys.sign_in(passkey)) == NO_CEREMONY
    assert not is_signed_in(client)


def test_an_unknown_passkey_is_refused(client, passkey, passkeys):
    assert UNKNOWN in _refusal(passkeys.sign_in(SoftPasskey()))
    assert not is_signed_in(client)


def test_an_answer_made_for_another_site_is_refused(app, client, passkey, passkeys):
    wrong_origin = passkeys.sign_in(passkey, origin="https://evil.example")
    description = _refusal(wrong_origin)
    assert "https://evil.example" in description and "http://localhost" in description
    wrong_site = passkeys.sign_in(passkey, rp_id="evil.example")
    assert "could not be checked" in _refusal(wrong_site)
    assert not is_signed_in(client)
    reasons = [e.details["reason"] for e in audit_events(app, "user.passkey_login_failed")]
    assert reasons == ["origin", "invalid"]


def test_a_disabled_account_cannot_sign_in_with_its_passkey(app, client, user, passkey, passkeys):
    from plugin.accounts.services import set_disabled

    with app.app_context():
        set_disabled(db.session.get(User, user.id), True)
        db.session.commit()
    assert UNKNOWN in _refusal(passkeys.sign_in(passkey))
    assert not is_signed_in(client)
    [failed] = audit_events(app, "user.passkey_login_failed")
    assert failed.details == {"reason": "disabled"} and failed.actor_id == user.id


def test_a_copied_passkey_whose_counter_went_back_is_refused(app, client, passkey, passkeys):
    assert passkeys.sign_in(passkey, sign_count=5).status_code == 200
    passkeys.client.post("/logout", data={"csrf_token": passkeys.csrf("/account")})
    assert "counter went backwards" in _refusal(passkeys.sign_in(passkey, sign_count=3))
    assert not is_signed_in(client)
    assert _passkey_rows(app)[0].sign_count == 5


def test_a_synced_passkey_without_a_counter_signs_in_again_and_again(client, passkey, passkeys):
    passkey.counting = False
    for _ in range(2):
        assert passkeys.sign_in(passkey).status_code == 200
    assert is_signed_in(client)


def test_missing_csrf_token_and_garbage_get_json_errors_never_a_traceback(
    app, client, passkey, passkeys
):
    no_token = client.post("/login/passkey/options", json={})
    assert "expired" in _refusal(no_token)
    not_json = passkeys.post("/login/passkey", None)
    assert "does not understand" in _refusal(not_json)
    token = passkeys.csrf()
    for credential in ("a string", {"id": "x"}, {"id": "!", "rawId": "!", "response": {}}, []):
        passkeys.login_options(token)
        answer = passkeys.post("/login/passkey", {"credential": credential}, token)
        assert "could not be checked" in _refusal(answer), credential
    assert not is_signed_in(client)


def test_adding_a_passkey_needs_a_session_and_a_usable_name(app, client, auth, user, passkeys):
    signed_out = passkeys.add_options("Laptop", token=passkeys.csrf("/login"))
    assert _refusal(signed_out, 401).startswith("You are signed out.")

    assert auth.login(user.email).status_code == 303
    too_long = passkeys.add_options("x" * 101)
    assert _refusal(too_long) == "Use at most 100 characters."
    assert too_long.get_json()["field"] == "name"
    control = passkeys.add_options("Laptop\u0007")
    assert "control character" in _refusal(control)

    # No name: the passkey is named after the browser.
    unnamed = passkeys.add(SoftPasskey(), "")
    assert unnamed.status_code == 200
    assert _passkey_rows(app)[0].name.startswith("Passkey on ")


def test_a_passkey_added_twice_or_for_another_site_is_refused(app, client, auth, user, passkeys):
    assert auth.login(user.email).status_code == 303
    key = SoftPasskey()
    assert passkeys.add(key).status_code == 200
    options = passkeys.add_options().get_json()["options"]
    assert [c["id"] for c in options["excludeCredentials"]] == [key.id]
    assert options["authenticatorSelection"]["residentKey"] == "preferred"
    again = passkeys.post("/account/passkeys", {"credential": key.create(options)}, page="/account")
    assert _refusal(again) == "This passkey is already on an account here."

    elsewhere = passkeys.add(SoftPasskey(), origin="https://evil.example")
    assert "https://evil.example" in _refusal(elsewhere)
    assert len(_passkey_rows(app)) == 1
    reasons = [e.details["reason"] for e in audit_events(app, "user.passkey_add_failed")]
    assert reasons == ["duplicate", "origin"]


def _row_form(client, passkey_id: int, action: str, data: dict):
    page = client.get("/account").get_data(as_text=True)
    return client.post(
        f"/account/passkeys/{passkey_id}/{action}",
        data={"csrf_token": csrf_token_from(page), **data},
    )


def test_rename_and_remove_a_passkey(app, client, auth, user, passkey, passkeys):
    assert auth.login(user.email).status_code == 303
    [row] = _passkey_rows(app)
    prefix = f"passkey-{row.id}"

    empty = _row_form(client, row.id, "rename", {f"{prefix}-name": ""})
    assert empty.status_code == 400
    assert f'id="{prefix}-name-error"' in empty.get_data(as_text=True)
    renamed = _row_form(client, row.id, "rename", {f"{prefix}-name": "Phone"})
    assert renamed.status_code == 303
    assert "The passkey is now called “Phone”." in client.get("/account").get_data(as_text=True)
    [event] = audit_events(app, "user.passkey_renamed")
    assert event.details["old_name"] == "Laptop" and event.details["name"] == "Phone"

    wrong = _row_form(client, row.id, "remove", {f"{prefix}-password": "not my password"})
    assert wrong.status_code == 200
    html = wrong.get_data(as_text=True)
    assert f'id="{prefix}-password-error">Your password is not correct.' in html
    assert len(_passkey_rows(app)) == 1

    removed = _row_form(client, row.id, "remove", {f"{prefix}-password": PASSWORD})
    assert removed.status_code == 303
    assert "Passkey “Phone” removed" in client.get("/account").get_data(as_text=True)
    assert _passkey_rows(app) == []
    assert len(audit_events(app, "user.passkey_removed")) == 1

    auth.logout()
    assert UNKNOWN in _refusal(passkeys.sign_in(passkey))


def test_nobody_renames_or_removes_another_persons_passkey(app, passkey):
    [row] = _passkey_rows(app)
    other = AuthActions(app.test_client())
    make_user(app, "other@example.com")
    assert other.login("other@example.com").status_code == 303
    assert _row_form(other.client, row.id, "remove", {"password": PASSWORD}).status_code == 404
    assert len(_passkey_rows(app)) == 1


def test_the_login_page_works_without_script_and_offers_the_passkey_button(client):
    html = client.get("/login").get_data(as_text=True)
    # Hidden until static/passkeys.js finds WebAuthn; the password form needs no script.
    assert re.search(r'<form[^>]*data-passkey="login"[^>]*hidden', html, re.S)
    assert '<script src="/static/passkeys.js" defer></script>' in html
    assert re.search(r"<script>", html) is None
    with client.get("/static/passkeys.js") as script:
        assert script.status_code == 200 and b"navigator.credentials.get" in script.data


def test_my_data_lists_my_passkeys_without_keys(app, client, auth, user, passkey, passkeys):
    assert passkeys.sign_in(passkey).status_code == 200
    page = client.get("/account").get_data(as_text=True)
    exported = client.post("/account/export", data={"csrf_token": csrf_token_from(page)})
    data = exported.get_json()
    [entry] = data["passkeys"]
    assert entry["name"] == "Laptop" and entry["created_at"] and entry["last_used_at"]
    assert "public_key" not in json.dumps(data) and passkey.id not in json.dumps(data)
    assert data["sessions"][0]["signed_in_with"] == "passkey"


def test_deleting_the_account_deletes_its_passkeys_and_challenges(app, client, auth, user, passkey):
    assert auth.login(user.email).status_code == 303
    PasskeyActions(client).add_options("Another")
    page = client.get("/account").get_data(as_text=True)
    deleted = client.post(
        "/account/delete",
        data={
            "csrf_token": csrf_token_from(page),
            "delete_password": PASSWORD,
            "understood": "y",
        },
    )
    assert deleted.status_code == 303
    with app.app_context():
        for model in (Passkey, PasskeyChallenge):
            assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0


def test_adding_a_passkey_asks_for_the_password_as_removing_does(app, client, auth, user, passkeys):
    assert auth.login(user.email).status_code == 303
    page = client.get("/account").get_data(as_text=True)
    assert "Your password, to add a passkey" in page

    # A borrowed session alone cannot plant a passkey that outlives it.
    for typed in ("", "not the password"):
        refused = passkeys.add_options("Planted", password=typed)
        assert _refusal(refused, 403) == "Your password is not correct."
        assert refused.get_json()["field"] == "password"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PasskeyChallenge)) == 0
    assert passkeys.add(SoftPasskey()).status_code == 200
    assert len(_passkey_rows(app)) == 1


def test_wrong_passwords_while_adding_a_passkey_are_limited(app, client, auth, user, passkeys):
    app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    assert auth.login(user.email).status_code == 303
    statuses = [passkeys.add_options(password="wrong").status_code for _ in range(3)]
    assert statuses == [403, 403, 429]
