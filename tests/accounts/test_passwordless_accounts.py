"""Accounts without a password: sign up with a passkey alone (in the middle of an install too),
get back in through "Forgot your password?", and prove again who you are by a recent passkey
sign-in wherever others type their password; the last passkey is never removed."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
import sqlalchemy as sa

from plugin.accounts.models import EmailToken, Passkey, PasskeyChallenge, User, UserSession
from plugin.accounts.services import get_user_by_email
from plugin.clock import utcnow
from plugin.extensions import db
from plugin.mail.models import MailMessage
from tests.accounts.account_helpers import audit_events, is_signed_in, user_count, without_tokens
from tests.accounts.passkey_helpers import PasskeyActions, SoftPasskey
from tests.helpers import PASSWORD, AuthActions, csrf_token_from, make_user, post_at_once

EMAIL = "keys.only@example.com"
NEW = "my first password at last"
SIGNUP_REFUSED = (
    "We could not create an account with this email. If you already have one, log in instead."
)
SIGN_IN_AGAIN = "Sign in again with your passkey to do this."


@pytest.fixture
def passkeys(client) -> PasskeyActions:
    return PasskeyActions(client)


@pytest.fixture
def key(passkeys) -> SoftPasskey:
    """The passkey of a person who signed up with it (``EMAIL``); the client is signed in."""
    passkey = SoftPasskey()
    response = passkeys.sign_up(passkey, EMAIL)
    assert response.status_code == 200, response.get_json()
    return passkey


def _person(app) -> User | None:
    with app.app_context():
        user = get_user_by_email(EMAIL)
        db.session.expunge_all()
        return user


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _signed_in_minutes_ago(app, minutes: int) -> None:
    with app.app_context():
        earlier = utcnow() - timedelta(minutes=minutes)
        db.session.execute(sa.update(UserSession).values(created_at=earlier))
        db.session.commit()


def _post_account_form(client, action: str, data: dict):
    page = client.get("/account").get_data(as_text=True)
    return client.post(action, data={"csrf_token": csrf_token_from(page), **data})


def _outbox(app, kind: str) -> list[MailMessage]:
    with app.app_context():
        rows = db.session.scalars(sa.select(MailMessage).where(MailMessage.kind == kind)).all()
        db.session.expunge_all()
        return list(rows)


# --- Signing up -----------------------------------------------------------------------------


def test_a_person_signs_up_with_a_passkey_alone_and_is_signed_in(app, client, passkeys):
    page = client.get("/signup").get_data(as_text=True)
    assert re.search(r'<form[^>]*data-passkey="signup"[^>]*hidden', page, re.S)
    assert 'data-email-input="email"' in page and "Sign up with a passkey" in page

    key = SoftPasskey()
    response = passkeys.sign_up(key, "  Keys.Only@Example.COM ")
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"redirect": "/account"}
    landing = client.get("/account")
    assert landing.status_code == 200  # signed in
    account = landing.get_data(as_text=True)
    assert "Welcome! Your account is ready." in account
    assert f"We sent a link to {EMAIL} to verify your address." in account
    assert "Set a password" in account and "Change password" not in account
    assert 'name="current_password"' not in account

    user = _person(app)
    assert user.email == EMAIL and user.password_hash is None and not user.has_password
    with app.app_context():
        [passkey] = db.session.scalars(sa.select(Passkey)).all()
        assert passkey.user_id == user.id and passkey.credential_id == key.id
        assert passkey.name.startswith("Passkey on ")
        assert db.session.scalars(sa.select(UserSession.signed_in_with)).all() == ["passkey"]
    [signup] = audit_events(app, "user.signup")
    assert signup.actor_id == user.id and signup.details["method"] == "passkey"
    assert len(audit_events(app, "user.passkey_added")) == 1
    assert [e.details["method"] for e in audit_events(app, "user.login")] == ["passkey"]
    [verify] = _outbox(app, "verify")
    assert verify.to_address == EMAIL and "/verify-email/" in verify.body_text

    # The passkey signs the person in again later.
    AuthActions(client).logout()
    assert passkeys.sign_in(key).status_code == 200 and is_signed_in(client)


def test_signing_up_with_a_passkey_during_an_install_lands_on_its_consent(
    app, client, passkeys, oauth_client
):
    query = urlencode(
        {
            "response_type": "code",
            "client_id": oauth_client.client_id,
            "redirect_uri": oauth_client.redirect_uri,
            "scope": "todos:read",
            "state": "new person",
        }
    )
    authorize = f"/oauth/authorize?{query}"
    login_url = client.get(authorize).location
    next_target = parse_qs(urlsplit(login_url).query)["next"][0]
    signup_page = client.get("/signup?next=" + quote(next_target)).get_data(as_text=True)
    assert "Sign up with a passkey" in signup_page and "ChatGPT" in signup_page

    signed_up = passkeys.sign_up(SoftPasskey(), EMAIL, next=next_target)
    assert signed_up.get_json() == {"redirect": authorize}
    consent = client.get(authorize)
    html = consent.get_data(as_text=True)
    assert consent.status_code == 200 and "ChatGPT" in html and "Allow" in html
    allowed = client.post(
        authorize, data={"csrf_token": csrf_token_from(html), "decision": "allow"}
    )
    assert allowed.location.startswith(oauth_client.redirect_uri + "?")
    params = parse_qs(urlsplit(allowed.location).query)
    assert params["state"] == ["new person"] and params["code"]
    # The verification link brings the person back to the install, as after a password sign-up.
    with app.app_context():
        assert db.session.scalar(sa.select(EmailToken.return_to)) == next_target


def test_a_taken_address_is_refused_in_the_words_of_the_password_sign_up(
    app, client, user, passkeys
):
    password_page = AuthActions(client).signup(user.email, "another passphrase entirely")
    assert SIGNUP_REFUSED in password_page.get_data(as_text=True)

    for spelling in (user.email, " PERSON@Example.COM "):
        refused = passkeys.signup_options(spelling)
        assert refused.status_code == 400
        assert refused.get_json() == {
            "error": refused.get_json()["error"],
            "error_description": SIGNUP_REFUSED,
            "field": "email",
        }
    # Refused before the prompt: no challenge, no passkey left pointing at nothing.
    assert _count(app, PasskeyChallenge) == 0
    assert user_count(app, user.email) == 1 and _count(app, Passkey) == 0
    assert not is_signed_in(client)


def test_an_address_taken_while_the_prompt_was_open_is_refused_the_same_way(app, passkeys):
    token = passkeys.csrf("/signup")
    options = passkeys.signup_options(EMAIL, token).get_json()["options"]
    make_user(app, EMAIL)  # someone else signed up with it in the meantime
    credential = SoftPasskey().create(options)
    refused = passkeys.post("/signup/passkey", {"credential": credential}, token)
    assert refused.status_code == 400
    assert refused.get_json()["error_description"] == SIGNUP_REFUSED
    assert refused.get_json()["field"] == "email"
    assert user_count(app, EMAIL) == 1 and _count(app, Passkey) == 0
    assert _count(app, PasskeyChallenge) == 0  # spent all the same
    [failed] = audit_events(app, "user.passkey_signup_failed")
    assert failed.details == {"reason": "email"}


def test_an_unusable_address_gets_the_password_sign_ups_error(app, client, passkeys):
    app.config["SIGNUP_RATE_LIMIT"] = "100 per minute"
    for address in ("", "not an address", "аdmin@example.com"):  # Cyrillic а in the last
        page = AuthActions(client).signup(address).get_data(as_text=True)
        password_error = re.search(r'id="email-error">([^<]+)<', page).group(1)
        refused = passkeys.signup_options(address)
        assert refused.status_code == 400, address
        assert refused.get_json()["error_description"] == password_error
        assert refused.get_json()["field"] == "email"


def test_a_replayed_or_foreign_answer_makes_no_account(app, client, passkeys):
    token = passkeys.csrf("/signup")
    options = passkeys.signup_options(EMAIL, token).get_json()["options"]
    foreign = SoftPasskey().create(options, origin="https://evil.example")
    refused = passkeys.post("/signup/passkey", {"credential": foreign}, token)
    assert "https://evil.example" in refused.get_json()["error_description"]
    # The challenge is spent: the right answer to it is refused too.
    again = passkeys.post("/signup/passkey", {"credential": SoftPasskey().create(options)}, token)
    assert "expired or was already used" in again.get_json()["error_description"]
    assert _person(app) is None and _count(app, Passkey) == 0
    assert not is_signed_in(client)
    no_token = client.post("/signup/passkey/options", json={"email": EMAIL})
    assert no_token.status_code == 400 and "expired" in no_token.get_json()["error_description"]


def test_both_ways_of_signing_up_share_the_sign_up_limit(app, client, passkeys):
    app.config["SIGNUP_RATE_LIMIT"] = "2 per minute"
    assert AuthActions(client).signup("first@example.com").status_code == 303
    assert passkeys.signup_options("second@example.com").status_code == 200
    limited = passkeys.signup_options("third@example.com")
    assert limited.status_code == 429
    assert "Too many attempts" in limited.get_json()["error_description"]
    assert AuthActions(app.test_client()).signup("fourth@example.com").status_code == 429


# --- The password that is not there -------------------------------------------------------


def test_password_login_is_refused_as_a_wrong_password_with_the_same_work(
    app, client, key, user, monkeypatch
):
    from plugin.accounts import services

    checked: list[str] = []
    real = services.verify_password
    monkeypatch.setattr(services, "verify_password", lambda h, p: checked.append(h) or real(h, p))
    answers = []
    for email in (user.email, EMAIL, "nobody@example.com"):
        response = AuthActions(app.test_client()).login(email, "some guess at a password")
        body = without_tokens(response.get_data(as_text=True)).replace(email, "EMAIL")
        answers.append((response.status_code, body))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 200 and "The email or password is not correct." in answers[0][1]
    with app.app_context():
        dummy = services.dummy_hash()
    assert len(checked) == 3 and checked[1] == checked[2] == dummy


def test_forgot_password_sets_a_first_password_and_then_it_logs_in(app, client, key):
    AuthActions(client).logout()
    page = client.get("/forgot-password").get_data(as_text=True)
    asked = client.post(
        "/forgot-password", data={"email": EMAIL, "csrf_token": csrf_token_from(page)}
    )
    assert asked.status_code == 303
    [message] = _outbox(app, "reset_link")
    link = re.search(r"http://localhost(/reset/\S+)", message.body_text).group(1)
    reset_page = client.get(link).get_data(as_text=True)
    assert "Choose a password" in reset_page and "no password yet" in reset_page
    done = client.post(
        link, data={"password": NEW, "confirm": NEW, "csrf_token": csrf_token_from(reset_page)}
    )
    assert done.status_code == 303
    assert _person(app).has_password

    auth = AuthActions(app.test_client())
    assert auth.login(EMAIL, NEW).status_code == 303
    assert "Change password" in auth.client.get("/account").get_data(as_text=True)


def test_an_admin_made_reset_link_sets_a_password_too(app, client, key):
    from plugin.accounts.services import create_password_reset

    with app.app_context():
        token = create_password_reset(get_user_by_email(EMAIL), ttl_seconds=600)
        db.session.commit()
    other = app.test_client()
    page = other.get(f"/reset/{token}").get_data(as_text=True)
    other.post(
        f"/reset/{token}",
        data={"password": NEW, "confirm": NEW, "csrf_token": csrf_token_from(page)},
    )
    assert AuthActions(app.test_client()).login(EMAIL, NEW).status_code == 303


# --- Proving again who you are --------------------------------------------------------------


def test_setting_a_password_needs_a_recent_passkey_sign_in(app, client, key, passkeys):
    fresh = client.get("/account").get_data(as_text=True)
    assert "no password is asked" in fresh and SIGN_IN_AGAIN not in fresh

    _signed_in_minutes_ago(app, 11)
    stale = client.get("/account").get_data(as_text=True)
    assert SIGN_IN_AGAIN in stale
    links = {unescape(href) for href in re.findall(r'href="(/login\?[^"]+)"', stale)}
    assert "/login?next=/account" in links
    login_page = client.get("/login?next=%2Faccount").get_data(as_text=True)
    assert "Sign in again with your passkey to carry on." in login_page
    refused = _post_account_form(client, "/account/password", {"new_password": NEW, "confirm": NEW})
    assert refused.status_code == 200
    assert f'id="current_password-error">{SIGN_IN_AGAIN}' in refused.get_data(as_text=True)
    assert not _person(app).has_password

    # Signing in again with the passkey (what the link leads to) opens the ten minutes again.
    assert passkeys.sign_in(key, next="/account").get_json() == {"redirect": "/account"}
    done = _post_account_form(client, "/account/password", {"new_password": NEW, "confirm": NEW})
    assert done.status_code == 303
    assert "Your password is set" in client.get("/account").get_data(as_text=True)
    assert _person(app).has_password
    assert len(audit_events(app, "user.password_set")) == 1
    assert AuthActions(app.test_client()).login(EMAIL, NEW).status_code == 303
    # From now on the password is what is asked.
    page = client.get("/account").get_data(as_text=True)
    assert "Change password" in page and 'name="current_password"' in page


def test_the_weak_password_rules_hold_for_a_first_password(app, client, key):
    weak = _post_account_form(
        client, "/account/password", {"new_password": "password", "confirm": "password"}
    )
    assert "This password is too common." in weak.get_data(as_text=True)
    assert not _person(app).has_password


def test_changing_the_address_needs_a_recent_passkey_sign_in(app, client, key):
    _signed_in_minutes_ago(app, 11)
    refused = _post_account_form(client, "/account/email", {"new_email": "new@example.com"})
    assert f'id="email_password-error">{SIGN_IN_AGAIN}' in refused.get_data(as_text=True)
    _signed_in_minutes_ago(app, 2)
    sent = _post_account_form(client, "/account/email", {"new_email": "new@example.com"})
    assert sent.status_code == 303
    assert len(_outbox(app, "email_change")) == 1


def test_the_last_passkey_of_an_account_without_a_password_stays(app, client, key, passkeys):
    with app.app_context():
        [row_id] = db.session.scalars(sa.select(Passkey.id)).all()
    prefix = f"passkey-{row_id}"
    refused = _post_account_form(client, f"/account/passkeys/{row_id}/remove", {})
    assert refused.status_code == 200
    html = refused.get_data(as_text=True)
    assert f'id="{prefix}-password-error" role="alert">This is your account' in html
    assert "would lock you out" in html
    assert _count(app, Passkey) == 1

    # With a second passkey, either one can go.
    assert passkeys.add(SoftPasskey(), "Phone").status_code == 200
    removed = _post_account_form(client, f"/account/passkeys/{row_id}/remove", {})
    assert removed.status_code == 303
    assert _count(app, Passkey) == 1


def test_delete_account_with_a_recent_passkey_sign_in_and_not_without(app, client, key):
    _signed_in_minutes_ago(app, 11)
    refused = _post_account_form(client, "/account/delete", {"understood": "y"})
    assert refused.status_code == 200
    assert f'id="delete_password-error">{SIGN_IN_AGAIN}' in refused.get_data(as_text=True)
    assert _person(app) is not None

    _signed_in_minutes_ago(app, 9)
    deleted = _post_account_form(client, "/account/delete", {"understood": "y"})
    assert deleted.status_code == 303
    assert _person(app) is None and _count(app, Passkey) == 0
    assert not is_signed_in(client)


def test_a_person_with_a_password_still_types_it_after_a_passkey_sign_in(
    app, client, auth, user, passkeys
):
    assert auth.login(user.email).status_code == 303
    key = SoftPasskey()
    assert passkeys.add(key).status_code == 200
    auth.logout()
    assert passkeys.sign_in(key).status_code == 200
    refused = _post_account_form(client, "/account/delete", {"understood": "y"})
    assert "This field is required." in refused.get_data(as_text=True)
    assert user_count(app, user.email) == 1
    deleted = _post_account_form(
        client, "/account/delete", {"understood": "y", "delete_password": PASSWORD}
    )
    assert deleted.status_code == 303


def test_my_data_says_the_account_has_no_password(app, client, key):
    exported = _post_account_form(client, "/account/export", {})
    data = exported.get_json()
    assert data["account"]["email"] == EMAIL and data["account"]["has_password"] is False
    assert len(data["passkeys"]) == 1
    assert data["sessions"][0]["signed_in_with"] == "passkey"
    assert "password_hash" not in exported.get_data(as_text=True)


def test_admins_see_how_each_account_signs_in(app, client, key, admin_user):
    AuthActions(client).logout()
    assert AuthActions(client).login(admin_user.email).status_code == 303
    listing = client.get("/admin/users").get_data(as_text=True)
    assert "1 passkey (no password)" in listing and ">Password<" in listing
    detail = client.get(f"/admin/users/{_person(app).id}").get_data(as_text=True)
    assert "1 passkey (no password)" in detail and "sets its first" in detail


@pytest.mark.parametrize("round_", range(4))
def test_two_removals_at_once_leave_one_passkey(app, client, key, passkeys, round_):
    second = SoftPasskey()
    assert passkeys.add(second, "Phone").status_code == 200
    other = app.test_client()
    assert PasskeyActions(other).sign_in(second).status_code == 200
    with app.app_context():
        ids = db.session.scalars(sa.select(Passkey.id).order_by(Passkey.id)).all()
    posts = []
    for http, passkey_id in zip((client, other), ids, strict=True):
        token = csrf_token_from(http.get("/account").get_data(as_text=True))
        posts.append((http, f"/account/passkeys/{passkey_id}/remove", token))
    statuses = post_at_once(posts)
    assert sorted(statuses) == [200, 303]  # one removed, the other refused as the last one
    assert _count(app, Passkey) == 1


def test_adding_another_passkey_needs_a_recent_passkey_sign_in(app, client, key, passkeys):
    assert passkeys.add(SoftPasskey(), "Second").status_code == 200  # just signed in
    _signed_in_minutes_ago(app, 30)
    stale = passkeys.add_options("Third", password="")
    assert stale.status_code == 403
    assert stale.get_json()["error_description"] == SIGN_IN_AGAIN
    assert passkeys.sign_in(key).status_code == 200
    assert passkeys.add(SoftPasskey(), "Third").status_code == 200
