"""WL-16: a password change or reset cancels pending address changes, and an address change
spends every outstanding reset link."""

from __future__ import annotations

import pytest

from plugin.accounts.services import create_password_reset, get_user_by_email
from plugin.extensions import db
from tests.helpers import PASSWORD, AuthActions, csrf_token_from
from tests.mail_helpers import link_in, sending_to

NEW_ADDRESS = "taken-over@example.org"
NEW_PASSWORD = "the owner's new passphrase"


@pytest.fixture
def app_config(app_config, mailbox):
    return {**app_config, **sending_to(mailbox)}


def ask_for_address(client, new_email: str = NEW_ADDRESS):
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    response = client.post(
        "/account/email",
        data={"new_email": new_email, "email_password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 303
    return response


def post_form(client, link: str, **fields):
    page = client.get(link)
    assert page.status_code == 200, page.status_code
    token = csrf_token_from(page.get_data(as_text=True))
    return client.post(link, data={**fields, "csrf_token": token})


def change_password(client):
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": token,
        },
    )
    assert response.status_code == 303


def test_wl16_a_password_change_cancels_a_pending_address_change(app, auth, mailbox, user):
    intruder = AuthActions(app.test_client())
    assert intruder.login(user.email).status_code == 303
    ask_for_address(intruder.client)
    link = link_in(mailbox.last(NEW_ADDRESS), "/account/email/")

    owner = AuthActions(app.test_client())
    owner.login(user.email)
    change_password(owner.client)

    assert intruder.client.get(link).status_code == 404
    with app.app_context():
        assert get_user_by_email(user.email) is not None
        assert get_user_by_email(NEW_ADDRESS) is None


def test_wl16_a_password_reset_cancels_a_pending_address_change(app, client, mailbox, user):
    intruder = AuthActions(app.test_client())
    intruder.login(user.email)
    ask_for_address(intruder.client)
    change_link = link_in(mailbox.last(NEW_ADDRESS), "/account/email/")

    with app.app_context():
        reset = "/reset/" + create_password_reset(get_user_by_email(user.email), ttl_seconds=600)
        db.session.commit()
    assert post_form(client, reset, password=NEW_PASSWORD, confirm=NEW_PASSWORD).status_code == 303

    assert intruder.client.get(change_link).status_code == 404
    with app.app_context():
        assert get_user_by_email(NEW_ADDRESS) is None


def test_wl16_an_address_change_spends_every_reset_link(app, client, mailbox, user):
    page = client.get("/forgot-password").get_data(as_text=True)
    client.post("/forgot-password", data={"email": user.email, "csrf_token": csrf_token_from(page)})
    mailed = link_in(mailbox.last(user.email), "/reset/")
    with app.app_context():
        made = "/reset/" + create_password_reset(get_user_by_email(user.email), ttl_seconds=600)
        db.session.commit()
    assert client.get(mailed).status_code == 200

    owner = AuthActions(app.test_client())
    owner.login(user.email)
    ask_for_address(owner.client)
    change_link = link_in(mailbox.last(NEW_ADDRESS), "/account/email/")
    assert post_form(owner.client, change_link).status_code == 303

    assert client.get(mailed).status_code == 404
    assert client.get(made).status_code == 404
    with app.app_context():
        assert get_user_by_email(NEW_ADDRESS) is not None
