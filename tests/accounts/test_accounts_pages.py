"""Sign up, log in, log out, the account page, password resets and the `next` target."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import pytest

from plugin.accounts.hooks import add_account_panel
from plugin.accounts.services import create_password_reset, get_user_by_email
from plugin.extensions import db
from tests.accounts.account_helpers import audit_events, is_signed_in, user_count
from tests.helpers import PASSWORD, AuthActions, csrf_token_from

AUTHORIZE = "/oauth/authorize?" + urlencode(
    {"response_type": "code", "client_id": "abc", "state": "s&t=1", "scope": "todos:read"}
)


def test_home_page_offers_signup_and_login(client):
    html = client.get("/").get_data(as_text=True)
    assert 'href="/signup"' in html and 'href="/login"' in html


def test_signup_creates_the_account_and_signs_in(app, auth, client):
    response = auth.signup("New.Person@Example.com")
    assert response.status_code == 303
    assert response.headers["Location"] == "/account"
    assert user_count(app, "new.person@example.com") == 1
    page = client.get("/account").get_data(as_text=True)
    assert "new.person@example.com" in page
    assert "Welcome" in page
    assert [e.actor_email for e in audit_events(app, "user.signup")] == ["new.person@example.com"]


def test_signup_errors_are_shown_beside_their_fields(app, client):
    token = csrf_token_from(client.get("/signup").get_data(as_text=True))
    response = client.post(
        "/signup",
        data={
            "email": "not-an-email",
            "password": PASSWORD,
            "confirm": "other",
            "csrf_token": token,
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'aria-describedby="email-error"' in html
    assert 'id="email-error">Enter a valid email address.' in html
    assert 'aria-describedby="confirm-error"' in html
    assert "The two passwords differ." in html
    assert user_count(app, "not-an-email") == 0


def test_login_logout_and_account_page(app, auth, client, user):
    assert not is_signed_in(client)
    response = auth.login("  PERSON@example.com ")
    assert response.status_code == 303
    assert response.headers["Location"] == "/account"
    html = client.get("/account").get_data(as_text=True)
    for text in (user.email, "Change password", "Signed-in sessions", "This browser"):
        assert text in html
    for field in ("current_password", "new_password", "confirm"):
        assert f'<label for="{field}">' in html

    response = auth.logout()
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert not is_signed_in(client)
    assert len(audit_events(app, "user.login")) == 1
    assert len(audit_events(app, "user.logout")) == 1


def test_failed_login_is_audited_without_the_password(app, auth, user):
    response = auth.login(user.email, "wrong password here")
    assert response.status_code == 200
    assert "The email or password is not correct." in response.get_data(as_text=True)
    (event,) = audit_events(app, "user.login_failed")
    assert event.details == {"email": user.email}
    assert "wrong password here" not in repr(event.details)


def test_account_page_requires_login_and_comes_back(client):
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/account"


def test_sign_out_other_sessions(app, auth, client, user):
    other = app.test_client()
    assert auth.login(user.email).status_code == 303
    token = csrf_token_from(other.get("/login").get_data(as_text=True))
    other.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert is_signed_in(other)

    page = client.get("/account").get_data(as_text=True)
    assert page.count("<li>") == 2
    response = client.post("/account/sessions/end", data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 303
    assert "Signed out 1 other session." in client.get("/account").get_data(as_text=True)
    assert is_signed_in(client)
    assert not is_signed_in(other)
    (event,) = audit_events(app, "user.sessions_ended")
    assert event.details == {"count": 1}


def test_change_password(app, auth, client, user):
    auth.login(user.email)
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    new = "a brand new passphrase"
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": new,
            "confirm": new,
            "csrf_token": token,
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/account"
    assert "Your password is changed." in client.get("/account").get_data(as_text=True)
    auth.logout()
    assert auth.login(user.email, PASSWORD).status_code == 200
    assert auth.login(user.email, new).status_code == 303


def test_new_password_policy_errors_show_beside_the_field(auth, client, user):
    auth.login(user.email)
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "football",
            "confirm": "football",
            "csrf_token": token,
        },
    )
    html = response.get_data(as_text=True)
    assert 'aria-describedby="new_password-hint new_password-error"' in html
    assert "This password is too common." in html


def test_account_panels_are_rendered_for_the_user(app, signed_in):
    def connected_apps(user):
        return f'<section class="card" id="test-panel"><h2>Apps of {user.email}</h2></section>'

    add_account_panel(app, connected_apps)
    html = signed_in.get("/account").get_data(as_text=True)
    assert '<section class="card" id="test-panel"><h2>Apps of person@example.com</h2>' in html


def test_reset_link_sets_a_new_password_once(app, auth, client, user):
    other = app.test_client()
    AuthActions(other).login(user.email)
    with app.app_context():
        token = create_password_reset(get_user_by_email(user.email), ttl_seconds=600)
        db.session.commit()

    page = client.get(f"/reset/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and user.email in html
    new = "the reset passphrase"
    response = client.post(
        f"/reset/{token}",
        data={"password": new, "confirm": new, "csrf_token": csrf_token_from(html)},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    assert not is_signed_in(other)
    assert auth.login(user.email, PASSWORD).status_code == 200
    assert auth.login(user.email, new).status_code == 303
    assert client.get(f"/reset/{token}").status_code == 404
    assert len(audit_events(app, "user.password_reset_used")) == 1


def test_unknown_reset_link_is_a_clear_404(client):
    response = client.get("/reset/not-a-token")
    assert response.status_code == 404
    assert "invalid, expired or already used" in response.get_data(as_text=True)


def test_reset_refuses_a_weak_password_beside_the_field(app, client, user):
    with app.app_context():
        token = create_password_reset(get_user_by_email(user.email), ttl_seconds=600)
        db.session.commit()
    html = client.get(f"/reset/{token}").get_data(as_text=True)
    response = client.post(
        f"/reset/{token}",
        data={"password": "short", "confirm": "short", "csrf_token": csrf_token_from(html)},
    )
    assert response.status_code == 200
    assert 'id="password-error">Use at least 8 characters' in response.get_data(as_text=True)
    assert client.get(f"/reset/{token}").status_code == 200


# --- the `next` target: a pending OAuth request resumes after login or signup ---------------


def _link_next(html: str, path: str) -> str:
    href = re.search(rf'href="({path}\?[^"]+)"', html).group(1)
    return parse_qs(urlsplit(unescape(href)).query)["next"][0]


def test_login_page_carries_next_in_a_hidden_field_and_the_signup_link(client):
    html = client.get("/login?next=" + quote(AUTHORIZE)).get_data(as_text=True)
    assert 'name="next" type="hidden" value="/oauth/authorize?response_type=code&amp;' in html
    assert _link_next(html, "/signup") == AUTHORIZE
    signup = client.get("/signup?next=" + quote(AUTHORIZE)).get_data(as_text=True)
    assert _link_next(signup, "/login") == AUTHORIZE


def test_login_resumes_the_authorization_request_from_the_hidden_field(client, user):
    token = csrf_token_from(client.get("/login?next=" + quote(AUTHORIZE)).get_data(as_text=True))
    response = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "next": AUTHORIZE, "csrf_token": token},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == AUTHORIZE


def test_signup_resumes_the_authorization_request(auth):
    response = auth.signup("someone@example.com", next=quote(AUTHORIZE))
    assert response.status_code == 303
    assert response.headers["Location"] == AUTHORIZE


def test_a_signed_in_visitor_can_switch_account(app, auth, signed_in):
    from tests.helpers import make_user

    make_user(app, "second@example.com")
    assert "You are signed in as person@example.com" in signed_in.get("/login").get_data(
        as_text=True
    )
    assert auth.login("second@example.com").status_code == 303
    assert "second@example.com" in signed_in.get("/account").get_data(as_text=True)


EVIL_TARGETS = [
    "https://evil.example",
    "//evil.example",
    "/\\evil.example",
    "%2F%2Fevil.example",
    "javascript:alert(1)",
    "/%0d%0aSet-Cookie:x=1",
    "http:/evil.example",
]


@pytest.mark.parametrize("target", EVIL_TARGETS)
def test_login_never_redirects_off_site(auth, user, target):
    response = auth.login(user.email, next=target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/account"


@pytest.mark.parametrize("target", EVIL_TARGETS)
def test_signup_never_redirects_off_site(app, target):
    # As a browser sends it: in the query of the form's action and in the hidden field.
    client = app.test_client()
    page = client.get("/signup?next=" + target).get_data(as_text=True)
    response = client.post(
        "/signup?next=" + target,
        data={
            "email": "x@example.com",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "next": unquote(target),
            "csrf_token": csrf_token_from(page),
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/account"


def test_evil_next_is_not_put_into_the_page(client):
    html = client.get("/login?next=https://evil.example").get_data(as_text=True)
    assert "evil.example" not in html


@pytest.mark.parametrize("path", ["/login", "/signup"])
def test_in03_an_email_with_a_control_character_is_a_form_error(app, client, path):
    page = client.get(path).get_data(as_text=True)
    response = client.post(
        path,
        data={
            "email": "person@example.com\r\nBcc: x@example.com",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "csrf_token": csrf_token_from(page),
        },
    )
    assert "Write this on one line" in response.get_data(as_text=True)
    assert not is_signed_in(client)
    assert user_count(app, "person@example.com\r\nbcc: x@example.com") == 0
    assert audit_events(app, "user.login_failed") == []


def test_the_account_page_has_a_plain_title_and_each_section_once(signed_in):
    html = signed_in.get("/account").get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert "<" not in title and title.startswith("Your account")
    for heading in ("data-heading", "delete-heading"):
        assert html.count(f'id="{heading}"') == 1, heading
