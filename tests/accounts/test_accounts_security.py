"""WL-01…WL-06, WL-08…WL-11 and WL-13 of the security bar, through the real pages."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from plugin import create_app
from plugin.accounts.passwords import COMMON_PASSWORDS_FILE
from plugin.accounts.services import get_user_by_email, set_disabled
from plugin.extensions import db
from tests.accounts.account_helpers import is_signed_in, user_count, without_tokens
from tests.helpers import PASSWORD, AuthActions, csrf_token_from, make_user

LONG_PASSPHRASE = ("Seven blue herons waded past the old mill at dawn, " * 3)[:127] + "Z"
UNICODE_PASSPHRASE = "Ünïcødé pässwörd ✓ 日本語のパスワード 🦊"


def _signup(client, email, password, confirm=None):
    token = csrf_token_from(client.get("/signup").get_data(as_text=True))
    return client.post(
        "/signup",
        data={
            "email": email,
            "password": password,
            "confirm": confirm or password,
            "csrf_token": token,
        },
    )


# --- WL-01: Argon2id with OWASP's minimum, nothing in plain text -------------------------


def test_wl01_hash_is_argon2id_with_enough_memory_and_time(app, auth):
    # Production's parameters: apps built with TESTING hash with Argon2's cheapest ones.
    app.testing = False
    auth.signup("hash@example.com")
    with app.app_context():
        stored = get_user_by_email("hash@example.com").password_hash
    match = re.fullmatch(r"\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[^$]+\$[^$]+", stored)
    assert match, stored
    memory_kib, iterations, _ = map(int, match.groups())
    assert memory_kib >= 19 * 1024
    assert iterations >= 2


def test_wl01_no_plaintext_password_anywhere_in_the_database(app, auth, client):
    auth.signup("plain@example.com")
    auth.logout()
    auth.login("plain@example.com", PASSWORD + "x")
    auth.login("plain@example.com")
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(sa.select(table)).all():
                assert PASSWORD not in repr(tuple(row)), table.name


# --- WL-02/03/04: length, long and unicode passphrases, no truncation --------------------


def test_wl02_seven_characters_are_refused(app, client):
    response = _signup(client, "short@example.com", "Zq9#kP2")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="password-error">Use at least 8 characters' in html
    assert 'aria-describedby="password-hint password-error"' in html
    assert user_count(app, "short@example.com") == 0


@pytest.mark.parametrize(
    "passphrase", [LONG_PASSPHRASE, UNICODE_PASSPHRASE], ids=["128", "unicode"]
)
def test_wl03_wl04_long_and_unicode_passphrases_work_whole(app, passphrase):
    client = app.test_client()
    assert len(LONG_PASSPHRASE) == 128
    assert _signup(client, "phrase@example.com", passphrase).status_code == 303
    auth = AuthActions(client)
    auth.logout()
    # Only the last character differs: a truncating hash would accept it.
    assert auth.login("phrase@example.com", passphrase[:-1] + "Q").status_code == 200
    assert not is_signed_in(client)
    assert auth.login("phrase@example.com", passphrase).status_code == 303


# --- WL-05: common passwords ------------------------------------------------------------


def test_wl05_common_password_list_is_shipped_and_lower_case():
    words = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    assert len(words) >= 9000
    assert words[:3] == ["123456", "password", "12345678"]
    assert all(word == word.lower() and word.strip() == word and word for word in words)


@pytest.mark.parametrize("password", ["baseball", "FootBall", "iloveyou1"])
def test_wl05_common_passwords_are_refused_whatever_the_case(app, client, password):
    response = _signup(client, "common@example.com", password)
    assert "This password is too common." in response.get_data(as_text=True)
    assert user_count(app, "common@example.com") == 0


# --- WL-06: no account enumeration -----------------------------------------------------


def test_wl06_unknown_email_wrong_password_and_disabled_account_look_the_same(app, user):
    make_user(app, "off@example.com")
    with app.app_context():
        set_disabled(get_user_by_email("off@example.com"), True)
        db.session.commit()

    answers = []
    for email in ("person@example.com", "nobody@example.com", "off@example.com"):
        response = AuthActions(app.test_client()).login(email, "not the password")
        body = without_tokens(response.get_data(as_text=True)).replace(email, "EMAIL")
        answers.append((response.status_code, body))
    assert answers[0][0] == 200
    assert answers[0] == answers[1] == answers[2]
    assert "The email or password is not correct." in answers[0][1]


def test_wl06_signup_with_a_taken_email_gives_a_generic_refusal(app, user):
    # The one unavoidable difference: a new email gets an account. The refusal for a taken
    # one never says "already registered" and is the same for every spelling of the email.
    bodies = []
    for email in ("person@example.com", " PERSON@Example.COM "):
        client = app.test_client()
        response = _signup(client, email, "a different passphrase")
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        assert "We could not create an account with this email." in body
        assert "already exists" not in body and "already registered" not in body
        assert 'aria-describedby="email-error"' in body
        assert not is_signed_in(client)
        bodies.append(without_tokens(body).replace(email, "EMAIL"))
    assert bodies[0] == bodies[1]
    assert user_count(app, "person@example.com") == 1


# --- WL-08: every accounts form refuses a missing or foreign CSRF token -------------------


def _forms(app, user):
    from plugin.accounts.services import create_password_reset

    with app.app_context():
        reset = create_password_reset(get_user_by_email(user.email), ttl_seconds=600)
        db.session.commit()
    new = "yet another passphrase"
    return [
        ("/login", {"email": user.email, "password": PASSWORD}),
        ("/signup", {"email": "csrf@example.com", "password": PASSWORD, "confirm": PASSWORD}),
        ("/logout", {}),
        ("/account/password", {"current_password": PASSWORD, "new_password": new, "confirm": new}),
        ("/account/sessions/end", {}),
        (f"/reset/{reset}", {"password": new, "confirm": new}),
    ]


@pytest.mark.parametrize("token_kind", ["missing", "foreign"])
def test_wl08_every_form_refuses_a_bad_csrf_token(app, user, token_kind):
    attacker = app.test_client()
    foreign = csrf_token_from(attacker.get("/login").get_data(as_text=True))
    victim = app.test_client()
    AuthActions(victim).login(user.email)
    other = app.test_client()
    AuthActions(other).login(user.email)

    for path, data in _forms(app, user):
        if token_kind == "foreign":
            data = {**data, "csrf_token": foreign}
        response = victim.post(path, data=data)
        assert response.status_code == 400, path
        assert "This form has expired" in response.get_data(as_text=True)

    # Nothing happened: still signed in (both), old password works, no new account.
    assert is_signed_in(victim) and is_signed_in(other)
    assert user_count(app, "csrf@example.com") == 0
    assert AuthActions(app.test_client()).login(user.email).status_code == 303


# --- WL-09/10/11: session ids, cookie flags, sessions that really end ---------------------


def test_wl09_session_cookie_changes_at_login_and_a_planted_one_stays_anonymous(app, user):
    victim = app.test_client()
    page = victim.get("/login").get_data(as_text=True)
    planted = victim.get_cookie("session").value
    victim.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token_from(page)},
    )
    assert victim.get_cookie("session").value != planted
    attacker = app.test_client()
    attacker.set_cookie("session", planted)
    assert not is_signed_in(attacker)
    assert is_signed_in(victim)


def _session_set_cookie(response) -> str:
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return cookie


def test_wl10_cookie_is_httponly_and_samesite_lax(auth, user):
    cookie = _session_set_cookie(auth.login(user.email))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_static_files_leave_the_session_cookie_alone(auth, client, user):
    # An icon the browser fetched beside a form post answered with the session as it was
    # before the post, and the secret the post had kept in it was gone on the next page.
    assert auth.login(user.email).status_code == 303
    for asset in ("favicon.svg", "site.css"):
        with client.get(f"/static/{asset}") as response:
            assert response.status_code == 200
            assert response.headers.getlist("Set-Cookie") == []
            assert "no-store" not in response.headers.get("Cache-Control", "")
    # Pages still refresh it (sessions end after a lifetime without use, not after login).
    assert client.get("/account").headers.getlist("Set-Cookie")


def test_wl10_cookie_is_secure_when_the_base_url_is_https(app, app_config, user):
    https_app = create_app({**app_config, "PLUGIN_BASE_URL": "https://plugin.example.com"})
    try:
        client = https_app.test_client()
        page = client.get("/login", base_url="https://plugin.example.com")
        response = client.post(
            "/login",
            base_url="https://plugin.example.com",
            data={
                "email": user.email,
                "password": PASSWORD,
                "csrf_token": csrf_token_from(page.get_data(as_text=True)),
            },
        )
        assert response.status_code == 303
        cookie = _session_set_cookie(response)
    finally:
        with https_app.app_context():
            db.engine.dispose()
    # Posted without a Referer, as a browser does under Referrer-Policy: no-referrer.
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_wl11_replayed_cookie_after_logout_is_not_signed_in(app, auth, client, user):
    auth.login(user.email)
    copied = client.get_cookie("session").value
    auth.logout()
    replay = app.test_client()
    replay.set_cookie("session", copied)
    assert not is_signed_in(replay)


def test_wl11_password_change_ends_every_other_session(app, auth, client, user):
    other = app.test_client()
    AuthActions(other).login(user.email)
    auth.login(user.email)
    before_change = client.get_cookie("session").value
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    new = "changed passphrase here"
    client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": new,
            "confirm": new,
            "csrf_token": token,
        },
    )
    assert is_signed_in(client)
    assert not is_signed_in(other)
    replay = app.test_client()
    replay.set_cookie("session", before_change)
    assert not is_signed_in(replay)


def test_wl11_disabling_the_user_ends_the_session(app, auth, client, user):
    auth.login(user.email)
    with app.app_context():
        set_disabled(get_user_by_email(user.email), True)
        db.session.commit()
    assert not is_signed_in(client)
    assert auth.login(user.email).status_code == 200


# --- WL-13: re-authentication ------------------------------------------------------------


def test_wl13_password_change_needs_the_current_password(auth, client, user):
    auth.login(user.email)
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    new = "an attacker's passphrase"
    response = client.post(
        "/account/password",
        data={
            "current_password": "a guess at it",
            "new_password": new,
            "confirm": new,
            "csrf_token": token,
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="current_password-error">Your current password is not correct.' in html
    auth.logout()
    assert auth.login(user.email, new).status_code == 200
    assert auth.login(user.email, PASSWORD).status_code == 303


def test_credential_posts_answer_303_never_307(app, auth, user):
    assert auth.login(user.email).status_code == 303
    assert auth.logout().status_code == 303
    assert AuthActions(app.test_client()).signup("new303@example.com").status_code == 303


def test_wl09_logging_in_again_ends_the_previous_session_id(app, auth, client, user):
    auth.login(user.email)
    first = client.get_cookie("session").value
    auth.login(user.email)
    assert client.get_cookie("session").value != first
    replay = app.test_client()
    replay.set_cookie("session", first)
    assert not is_signed_in(replay)
    assert is_signed_in(client)


def test_first_login_with_a_stale_session_cookie_works(app, client, auth, user):
    """A cookie whose session ended elsewhere must not spoil the login form's CSRF token."""
    assert auth.login(user.email).status_code == 303
    with app.app_context():
        from plugin.accounts.sessions import end_sessions

        end_sessions(user.id)
        db.session.commit()
    page = client.get("/login")
    token = csrf_token_from(page.get_data(as_text=True))
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
