"""One normal form for addresses, shared by sign-up, login, the CLI and the admin; look-alikes
are one account or refused, and accounts made before keep working."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from plugin.accounts.addresses import email_problem, normalize_email
from plugin.accounts.models import User
from plugin.accounts.passwords import hash_password
from plugin.extensions import db
from tests.accounts.account_helpers import user_count
from tests.helpers import PASSWORD, AuthActions, make_user


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Admin@Example.com", "admin@example.com"),
        ("admin@example.com.", "admin@example.com"),
        ("ａｄｍｉｎ@ｅｘａｍｐｌｅ.ｃｏｍ", "admin@example.com"),
        ("  admin@example.com ", "admin@example.com"),
        ("user@пример.рф", "user@пример.рф"),
    ],
)
def test_spellings_of_one_address_normalise_to_it(typed, stored):
    assert normalize_email(typed) == stored
    assert email_problem(stored) is None


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("adm\u200bin@example.com", "invisible or control characters"),
        ("admin\u200d@example.com", "invisible or control characters"),
        ("admin@exam\u202eple.com", "invisible or control characters"),
        ("ad\x01min@example.com", "invisible or control characters"),
        ("pаypal@example.com", "mixes letters of different alphabets"),  # Cyrillic а
        ("admin@exаmple.com", "mixes letters of different alphabets"),
        ("a b@example.com", "Enter a valid email address."),
        ("admin@example", "Enter a valid email address."),
        ("admin@@example.com", "Enter a valid email address."),
        ("admin@example.com..", "Enter a valid email address."),
    ],
)
def test_what_cannot_be_a_real_address_is_refused(typed, problem):
    assert problem in email_problem(normalize_email(typed))


def test_japanese_mixes_its_scripts_with_latin():
    assert email_problem(normalize_email("ユーザー漢字abc@例え.jp")) is None


def test_look_alikes_sign_up_as_the_same_account(app, user):
    for spelling in ("person@example.com.", "ｐｅｒｓｏｎ@example.com"):
        response = AuthActions(app.test_client()).signup(spelling)
        assert response.status_code == 200
        assert "We could not create an account with this email." in response.get_data(as_text=True)
    assert user_count(app, "person@example.com") == 1


def test_look_alikes_log_in_to_the_same_account(app, user):
    for spelling in ("PERSON@example.com.", "ｐｅｒｓｏｎ@ｅｘａｍｐｌｅ.ｃｏｍ"):
        assert AuthActions(app.test_client()).login(spelling).status_code == 303


def test_sign_up_refuses_invisible_characters_beside_the_field(app):
    response = AuthActions(app.test_client()).signup("new\u200b@example.com")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="email-error">This address contains invisible' in html


def test_the_cli_shares_the_normalisation(app, runner, user):
    result = runner.invoke(
        args=["users", "create", "person@example.com.", "--password-stdin"], input=PASSWORD + "\n"
    )
    assert result.exit_code != 0
    assert "already exists" in result.output
    refused = runner.invoke(
        args=["users", "create", "pаypal@example.com", "--password-stdin"], input=PASSWORD + "\n"
    )
    assert "mixes letters" in refused.output
    assert runner.invoke(args=["users", "disable", "PERSON@example.com."]).exit_code == 0


def test_an_account_stored_before_normalisation_still_logs_in(app):
    # Stored as the old code did (trimmed, lower-case), with the root dot kept.
    with app.app_context():
        db.session.add(User(email="old@example.com.", password_hash=hash_password(PASSWORD)))
        db.session.commit()
    assert AuthActions(app.test_client()).login("old@example.com.").status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_admin_search_finds_the_normalised_address(app, admin_user):
    make_user(app, "Someone@Example.com.")
    client = app.test_client()
    AuthActions(client).login(admin_user.email)
    html = client.get("/admin/users?q=someone@example.com").get_data(as_text=True)
    assert "someone@example.com</a>" in html
