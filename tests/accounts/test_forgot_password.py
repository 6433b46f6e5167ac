"""Forgot password: the message arrives, its link works once and expires, nothing tells
whether an account exists, and a reset ends every session and token."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import sqlalchemy as sa

from plugin.accounts.models import PasswordReset
from plugin.clock import utcnow
from plugin.extensions import db
from tests.accounts.account_helpers import audit_events, is_signed_in, without_tokens
from tests.helpers import PASSWORD, AuthActions, csrf_token_from, make_user
from tests.mail_helpers import html_of, link_in, sending_to, text_of

NEW = "a fresh remembered passphrase"
AUTHORIZE = "/oauth/authorize?response_type=code&client_id=abc&state=xyz"


@pytest.fixture
def app_config(app_config, mailbox):
    return {**app_config, **sending_to(mailbox)}


def ask(client, email: str, next: str | None = None):
    query = f"?next={quote(next)}" if next else ""
    page = client.get(f"/forgot-password{query}").get_data(as_text=True)
    return client.post(
        f"/forgot-password{query}", data={"email": email, "csrf_token": csrf_token_from(page)}
    )


def set_password(client, link: str, password: str = NEW):
    page = client.get(link)
    assert page.status_code == 200, page.status_code
    return client.post(
        link,
        data={
            "password": password,
            "confirm": password,
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
        },
    )


def test_the_login_page_links_to_it_keeping_the_install(client):
    html = client.get("/login?next=" + quote(AUTHORIZE)).get_data(as_text=True)
    href = unescape(re.search(r'href="(/forgot-password\?[^"]+)"', html).group(1))
    assert parse_qs(urlsplit(href).query)["next"] == [AUTHORIZE]
    form = client.get("/forgot-password?next=" + quote(AUTHORIZE)).get_data(as_text=True)
    assert '<label for="email">Email</label>' in form
    assert 'name="next" type="hidden"' in form


def test_the_message_arrives_and_its_link_sets_a_new_password_once(app, client, mailbox, user):
    response = ask(client, "Person@Example.com")
    assert response.status_code == 303
    assert "a link to choose a new password is on its way" in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)

    message = mailbox.last(user.email)
    assert message["Subject"] == "Reset your password · Todo Plugin"
    assert "Todo Plugin" in text_of(message) and "http://localhost" in text_of(message)
    assert "Choose a new password" in html_of(message)
    link = link_in(message, "/reset/")
    with app.app_context():
        stored = db.session.scalars(sa.select(PasswordReset.token_hash)).all()
    assert link.removeprefix("/reset/") not in stored  # only its digest is kept

    assert set_password(client, link).status_code == 303
    auth = AuthActions(app.test_client())
    assert auth.login(user.email, PASSWORD).status_code == 200
    assert auth.login(user.email, NEW).status_code == 303
    assert client.get(link).status_code == 404  # single use

    notice = mailbox.wait_for(user.email, 2)[-1]
    assert notice["Subject"] == "Your password was changed · Todo Plugin"
    assert len(audit_events(app, "user.password_reset_requested")) == 1
    assert len(audit_events(app, "user.password_reset_used")) == 1


def test_the_link_expires(app, client, mailbox, user):
    ask(client, user.email)
    link = link_in(mailbox.last(user.email), "/reset/")
    with app.app_context():
        db.session.execute(sa.update(PasswordReset).values(expires_at=utcnow() - timedelta(1)))
        db.session.commit()
    response = client.get(link)
    assert response.status_code == 404
    assert "invalid, expired or already used" in response.get_data(as_text=True)


def test_the_link_lives_for_forgot_password_ttl(app, client, mailbox, user):
    ask(client, user.email)
    assert "for 60 minutes" in text_of(mailbox.last(user.email))
    with app.app_context():
        reset = db.session.scalar(sa.select(PasswordReset))
        assert reset.expires_at - reset.created_at <= timedelta(seconds=3601)


def test_no_enumeration_same_page_and_one_message_either_way(app, mailbox, user):
    pages = []
    for email in (user.email, "nobody@example.com"):
        client = app.test_client()
        response = ask(client, email)
        assert response.status_code == 303
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        pages.append(without_tokens(page).replace(email, "EMAIL"))
    assert pages[0] == pages[1]
    assert len(mailbox.to(user.email)) == 1
    (note,) = mailbox.wait_for("nobody@example.com")
    assert "There is no account with this address" in text_of(note)
    assert "/reset/" not in text_of(note)


def test_an_invalid_address_gets_the_error_beside_the_field(client, mailbox):
    response = ask(client, "not an address")
    assert response.status_code == 200
    assert 'id="email-error">Enter a valid email address.' in response.get_data(as_text=True)
    assert mailbox.messages == []


def test_a_reset_ends_every_session_and_revokes_every_token(app, client, mailbox, user, token):
    other = app.test_client()
    AuthActions(other).login(user.email)
    api = app.test_client()
    assert api.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    ask(client, user.email)
    response = set_password(client, link_in(mailbox.last(user.email), "/reset/"))
    assert response.status_code == 303
    assert not is_signed_in(other)
    me = api.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Apps connected to your account (such as ChatGPT) were signed out too" in page


def test_using_one_link_spends_the_others_and_the_admin_made_ones(app, client, mailbox, user):
    from plugin.accounts.services import create_password_reset, get_user_by_email

    ask(client, user.email)
    ask(client, user.email)
    with app.app_context():
        admin_link = "/reset/" + create_password_reset(
            get_user_by_email(user.email), ttl_seconds=600
        )
        db.session.commit()
    first, second = (link_in(m, "/reset/") for m in mailbox.wait_for(user.email, 2))
    assert set_password(client, second).status_code == 303
    assert client.get(first).status_code == 404
    assert client.get(admin_link).status_code == 404


def test_admin_made_links_keep_working(app, client, user):
    from plugin.accounts.services import create_password_reset, get_user_by_email

    with app.app_context():
        link = "/reset/" + create_password_reset(get_user_by_email(user.email), ttl_seconds=600)
        db.session.commit()
    response = set_password(client, link)
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"


def test_the_install_resumes_after_the_detour(app, client, mailbox, user):
    response = ask(client, user.email, next=AUTHORIZE)
    location = urlsplit(response.headers["Location"])
    assert location.path == "/forgot-password"
    assert parse_qs(location.query)["next"] == [AUTHORIZE]
    response = set_password(client, link_in(mailbox.last(user.email), "/reset/"))
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login" and parse_qs(location.query)["next"] == [AUTHORIZE]
    login = AuthActions(client).login(user.email, NEW, next=quote(AUTHORIZE, safe=""))
    assert login.headers["Location"] == AUTHORIZE


def test_messages_per_address_are_limited_quietly(app, mailbox, user):
    statuses = [ask(app.test_client(), user.email).status_code for _ in range(5)]
    assert statuses == [303] * 5
    # ACCOUNT_MAIL_RATE_LIMIT: 3 per 15 minutes; the page never changes.
    assert len(mailbox.to(user.email)) == 3


@pytest.mark.parametrize("limit", ["2 per minute"])
def test_asking_is_limited_per_address_of_the_asker(app, app_config, limit):
    app.config["FORGOT_PASSWORD_RATE_LIMIT"] = limit
    client = app.test_client()
    statuses = [ask(client, f"someone{i}@example.com").status_code for i in range(3)]
    assert statuses == [303, 303, 429]


def test_mail_server_down_says_try_again_and_changes_nothing(app, client, mailbox, user):
    from plugin.accounts.services import create_password_reset, get_user_by_email

    with app.app_context():
        earlier = "/reset/" + create_password_reset(get_user_by_email(user.email), ttl_seconds=600)
        db.session.commit()
    mailbox.stop()
    try:
        responses = [ask(app.test_client(), email) for email in (user.email, "nobody@x.example")]
    finally:
        mailbox.start()
    for response in responses:
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "We could not send the e-mail just now." in html
        assert "Traceback" not in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PasswordReset)) == 1
    assert client.get(earlier).status_code == 200
    # Once the server is back, asking again works.
    assert ask(app.test_client(), user.email).status_code == 303
    assert mailbox.last(user.email)


def test_a_disabled_account_is_told_to_ask_the_operator(app, client, mailbox):
    from plugin.accounts.services import get_user_by_email, set_disabled

    make_user(app, "gone@example.com")
    with app.app_context():
        set_disabled(get_user_by_email("gone@example.com"), True)
        db.session.commit()
    assert ask(client, "gone@example.com").status_code == 303
    assert "This account is disabled" in text_of(mailbox.last("gone@example.com"))
