"""Changing the address: confirmed at the new one, a notice to the old one, links used once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from plugin.accounts.models import EmailToken
from plugin.accounts.services import get_user_by_email
from plugin.clock import utcnow
from plugin.extensions import db
from tests.accounts.account_helpers import audit_events
from tests.helpers import PASSWORD, AuthActions, csrf_token_from, make_user
from tests.mail_helpers import link_in, sending_to, text_of

NEW = "moved@example.org"


@pytest.fixture
def app_config(app_config, mailbox):
    return {**app_config, **sending_to(mailbox)}


def ask(client, new_email: str = NEW, password: str = PASSWORD):
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    return client.post(
        "/account/email",
        data={"new_email": new_email, "email_password": password, "csrf_token": token},
    )


def confirm(client, link: str):
    page = client.get(link)
    assert page.status_code == 200, page.status_code
    assert NEW in page.get_data(as_text=True)
    return client.post(link, data={"csrf_token": csrf_token_from(page.get_data(as_text=True))})


def test_the_change_happens_at_the_new_address_and_the_old_one_is_told(
    app, signed_in, mailbox, user
):
    response = ask(signed_in)
    assert response.status_code == 303
    assert f"We sent a link to {NEW}" in signed_in.get("/account").get_data(as_text=True)
    with app.app_context():
        assert get_user_by_email(user.email) is not None  # nothing changed yet

    link = link_in(mailbox.last(NEW), "/account/email/")
    assert confirm(signed_in, link).status_code == 303
    page = signed_in.get("/account").get_data(as_text=True)
    assert f"Your address is now {NEW}." in page and "Verified" in page
    notice = mailbox.last(user.email)
    assert notice["Subject"] == "Your e-mail address was changed · Todo Plugin"
    assert NEW in text_of(notice)
    assert signed_in.get(link).status_code == 404  # single use
    assert AuthActions(app.test_client()).login(NEW).status_code == 303
    assert AuthActions(app.test_client()).login(user.email).status_code == 200
    (event,) = audit_events(app, "user.email_changed")
    assert event.details == {"old_email": user.email, "new_email": NEW}


def test_opening_the_link_alone_changes_nothing(app, signed_in, mailbox, user):
    ask(signed_in)
    link = link_in(mailbox.last(NEW), "/account/email/")
    app.test_client().get(link)  # a mail scanner follows links; only the button acts
    with app.app_context():
        assert get_user_by_email(user.email) is not None


def test_the_link_expires(app, signed_in, mailbox, user):
    ask(signed_in)
    link = link_in(mailbox.last(NEW), "/account/email/")
    with app.app_context():
        db.session.execute(sa.update(EmailToken).values(expires_at=utcnow() - timedelta(1)))
        db.session.commit()
    assert signed_in.get(link).status_code == 404


def test_the_password_is_asked_and_errors_sit_beside_their_field(signed_in, mailbox):
    wrong = ask(signed_in, password="not my password").get_data(as_text=True)
    assert 'id="email_password-error">Your password is not correct.' in wrong
    invalid = ask(signed_in, new_email="adm\u200bin@example.com").get_data(as_text=True)
    assert 'id="new_email-error">This address contains invisible' in invalid
    assert mailbox.messages == []


def test_an_address_taken_meanwhile_is_refused_at_the_link(app, signed_in, mailbox, user):
    ask(signed_in)
    link = link_in(mailbox.last(NEW), "/account/email/")
    make_user(app, NEW)
    response = confirm(signed_in, link)
    assert response.status_code == 404
    assert "Another account uses this address" in response.get_data(as_text=True)
    with app.app_context():
        assert get_user_by_email(user.email) is not None


def test_mail_server_down_says_try_again(app, signed_in, mailbox):
    mailbox.stop()
    try:
        response = ask(signed_in)
    finally:
        mailbox.start()
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="new_email-error">We could not send the e-mail just now.' in html
    assert f'value="{NEW}"' in html  # what was typed is still there
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(EmailToken)) == 0
