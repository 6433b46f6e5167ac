"""Verified addresses: the link sent at sign-up, and REQUIRE_VERIFIED_EMAIL holding the consent
until it is opened, after which the install resumes."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote, urlencode

import pytest
import sqlalchemy as sa

from plugin.accounts.models import EmailToken, User
from plugin.clock import utcnow
from plugin.extensions import db
from tests.accounts.account_helpers import audit_events
from tests.helpers import AuthActions, csrf_token_from
from tests.mail_helpers import link_in, sending_to, text_of

EMAIL = "new.person@example.com"


@pytest.fixture
def app_config(app_config, mailbox):
    return {**app_config, **sending_to(mailbox), "REQUIRE_VERIFIED_EMAIL": True}


def authorize_path(oauth_client) -> str:
    return "/oauth/authorize?" + urlencode(
        {
            "response_type": "code",
            "client_id": oauth_client.client_id,
            "redirect_uri": oauth_client.redirect_uri,
            "scope": "todos:read",
            "state": "st&ate",
        }
    )


def verified_at(app, email: str):
    with app.app_context():
        return db.session.scalar(sa.select(User.email_verified_at).where(User.email == email))


def test_sign_up_sends_a_link_that_verifies_once(app, auth, client, mailbox):
    response = auth.signup(EMAIL)
    assert response.status_code == 303
    page = client.get("/account").get_data(as_text=True)
    assert f"We sent a link to {EMAIL} to verify your address." in page
    assert "Not verified" in page

    message = mailbox.last(EMAIL)
    assert message["Subject"] == "Verify your e-mail address · Todo Plugin"
    link = link_in(message, "/verify-email/")
    assert client.get(link).status_code == 303
    assert verified_at(app, EMAIL) is not None
    assert "Verified" in client.get("/account").get_data(as_text=True)
    assert client.get(link).status_code == 404  # single use
    assert len(audit_events(app, "user.email_verified")) == 1


def test_the_link_expires(app, auth, client, mailbox):
    auth.signup(EMAIL)
    link = link_in(mailbox.last(EMAIL), "/verify-email/")
    with app.app_context():
        db.session.execute(sa.update(EmailToken).values(expires_at=utcnow() - timedelta(1)))
        db.session.commit()
    response = client.get(link)
    assert response.status_code == 404
    assert "invalid, expired or already used" in response.get_data(as_text=True)
    assert verified_at(app, EMAIL) is None


def test_the_consent_waits_for_a_verified_address_and_the_install_resumes(
    app, auth, client, mailbox, oauth_client
):
    authorize = authorize_path(oauth_client)
    response = auth.signup(EMAIL, next=quote(authorize))
    assert response.headers["Location"] == authorize

    waiting = client.get(authorize)
    assert waiting.status_code == 302
    assert waiting.headers["Location"].startswith("/verify-email?next=")
    page = client.get(waiting.headers["Location"]).get_data(as_text=True)
    assert "Verify your address" in page and EMAIL in page

    link = link_in(mailbox.last(EMAIL), "/verify-email/")
    back = client.get(link)
    assert back.status_code == 303
    assert back.headers["Location"] == authorize
    consent = client.get(authorize)
    assert consent.status_code == 200
    assert "ChatGPT" in consent.get_data(as_text=True)


def test_sending_the_link_again_keeps_the_install(app, auth, client, mailbox, oauth_client):
    authorize = authorize_path(oauth_client)
    auth.signup(EMAIL, next=quote(authorize))
    waiting = client.get(client.get(authorize).headers["Location"]).get_data(as_text=True)
    response = client.post(
        "/verify-email/send?next=" + quote(authorize),
        data={"csrf_token": csrf_token_from(waiting), "next": authorize},
    )
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/verify-email?next=")
    first, second = mailbox.wait_for(EMAIL, 2)
    assert link_in(first, "/verify-email/") != link_in(second, "/verify-email/")
    assert client.get(link_in(second, "/verify-email/")).headers["Location"] == authorize


def test_without_the_setting_the_consent_does_not_wait(app, auth, client, oauth_client):
    app.config["REQUIRE_VERIFIED_EMAIL"] = False
    auth.signup(EMAIL)
    assert client.get(authorize_path(oauth_client)).status_code == 200


def test_mail_server_down_at_sign_up_keeps_the_account(app, auth, client, mailbox):
    mailbox.stop()
    try:
        response = auth.signup(EMAIL)
    finally:
        mailbox.start()
    assert response.status_code == 303
    page = client.get("/account").get_data(as_text=True)
    assert "We could not send the e-mail that verifies your address just now" in page
    # Nothing lost: the account exists and the link can be sent again from the account page.
    token = csrf_token_from(page)
    client.post("/verify-email/send", data={"csrf_token": token})
    assert "/verify-email/" in text_of(mailbox.last(EMAIL))


def test_a_reset_link_verifies_the_address_too(app, mailbox):
    client = app.test_client()
    AuthActions(client).signup(EMAIL)
    page = client.get("/forgot-password").get_data(as_text=True)
    client.post("/forgot-password", data={"email": EMAIL, "csrf_token": csrf_token_from(page)})
    link = link_in(mailbox.wait_for(EMAIL, 2)[-1], "/reset/")
    form = client.get(link).get_data(as_text=True)
    new = "an entirely new passphrase"
    client.post(link, data={"password": new, "confirm": new, "csrf_token": csrf_token_from(form)})
    assert verified_at(app, EMAIL) is not None
