"""`flask users …`: success paths and one-line errors with a non-zero exit."""

from __future__ import annotations

import json

from plugin.accounts.services import get_user_by_email
from tests.accounts.account_helpers import audit_events, is_signed_in, user_count
from tests.helpers import PASSWORD, AuthActions


def _assert_one_line_error(result, text: str) -> None:
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert text in result.output


def test_create_with_password_from_stdin(app, runner):
    result = runner.invoke(
        args=["users", "create", "Ops@Example.com", "--admin", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created admin user ops@example.com" in result.output
    with app.app_context():
        user = get_user_by_email("ops@example.com")
        assert user.is_admin and not user.is_disabled
    assert AuthActions(app.test_client()).login("ops@example.com").status_code == 303
    assert [e.actor_email for e in audit_events(app, "user.created")] == ["ops@example.com"]
    assert audit_events(app, "user.signup") == []


def test_create_prompts_twice_for_the_password(app, runner):
    result = runner.invoke(
        args=["users", "create", "typed@example.com"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert user_count(app, "typed@example.com") == 1


def test_create_prompt_refuses_a_weak_password_and_asks_again(app, runner):
    result = runner.invoke(
        args=["users", "create", "typed@example.com"], input=f"short\n{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "Use at least 8 characters" in result.output


def test_create_errors(app, runner, user):
    duplicate = runner.invoke(
        args=["users", "create", "PERSON@example.com", "--password-stdin"], input=PASSWORD + "\n"
    )
    _assert_one_line_error(duplicate, "Error: An account with this email already exists.")
    weak = runner.invoke(
        args=["users", "create", "new@example.com", "--password-stdin"], input="password\n"
    )
    _assert_one_line_error(weak, "too common")
    bad_email = runner.invoke(
        args=["users", "create", "not-an-email", "--password-stdin"], input=PASSWORD + "\n"
    )
    _assert_one_line_error(bad_email, "Enter a valid email address.")
    assert user_count(app, "new@example.com") == 0


def test_list_plain_and_json(app, runner, user, admin_user):
    plain = runner.invoke(args=["users", "list"])
    assert plain.exit_code == 0
    assert "person@example.com" in plain.output and "admin@example.com" in plain.output
    rows = json.loads(runner.invoke(args=["users", "list", "--json"]).output)
    assert [(r["email"], r["is_admin"], r["is_disabled"]) for r in rows] == [
        ("person@example.com", False, False),
        ("admin@example.com", True, False),
    ]
    assert "password_hash" not in rows[0]


def test_set_admin_and_remove_but_never_the_last(app, runner, user, admin_user):
    assert runner.invoke(args=["users", "set-admin", "person@example.com"]).exit_code == 0
    removed = runner.invoke(args=["users", "set-admin", "admin@example.com", "--remove"])
    assert removed.exit_code == 0
    assert "no longer an admin" in removed.output
    last = runner.invoke(args=["users", "set-admin", "person@example.com", "--remove"])
    _assert_one_line_error(last, "last admin")
    with app.app_context():
        assert get_user_by_email("person@example.com").is_admin


def test_disable_signs_out_and_enable_lets_back_in(app, runner, user):
    client = app.test_client()
    auth = AuthActions(client)
    auth.login(user.email)
    result = runner.invoke(args=["users", "disable", "person@example.com"])
    assert result.exit_code == 0, result.output
    assert not is_signed_in(client)
    assert auth.login(user.email).status_code == 200
    assert runner.invoke(args=["users", "enable", "person@example.com"]).exit_code == 0
    assert auth.login(user.email).status_code == 303


def test_the_last_admin_cannot_be_disabled(runner, admin_user):
    _assert_one_line_error(
        runner.invoke(args=["users", "disable", "admin@example.com"]), "last admin"
    )


def test_unknown_email_is_one_clear_line(runner):
    for command in (["set-admin"], ["set-admin", "--remove"], ["disable"], ["enable"]):
        result = runner.invoke(args=["users", *command, "ghost@example.com"])
        _assert_one_line_error(result, "Error: No user with the email 'ghost@example.com'.")
        assert len(result.output.strip().splitlines()) == 1


# An escape sequence that clears the screen and retitles the terminal, and a fake second row.
HOSTILE_EMAIL = "evil\x1b[2J\x1b]0;pwned\x07@example.com\n    99  root@example.com"


def test_cl01_users_list_prints_no_raw_control_characters(app, runner):
    from plugin.accounts.models import User
    from plugin.extensions import db

    # Stored before today's validation, or by a script: the listing must still be safe.
    with app.app_context():
        db.session.add(User(email=HOSTILE_EMAIL, password_hash="x"))
        db.session.commit()
    plain = runner.invoke(args=["users", "list"])
    assert plain.exit_code == 0
    assert "\x1b" not in plain.output and "\x07" not in plain.output
    assert len(plain.output.splitlines()) == 1
    assert "evil\\x1b[2J\\x1b]0;pwned\\x07@example.com\\n    99  root@example.com" in plain.output
    rows = json.loads(runner.invoke(args=["users", "list", "--json"]).output)
    assert rows[0]["email"] == HOSTILE_EMAIL
