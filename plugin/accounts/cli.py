"""`flask users …`: create, list, promote and disable accounts from the command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from plugin.accounts.models import User
from plugin.accounts.passwords import password_problem
from plugin.accounts.reviewers import create_reviewer
from plugin.accounts.services import (
    AccountError,
    create_user,
    get_user_by_email,
    normalize_email,
    set_admin,
    set_disabled,
)
from plugin.database import commit, discard_work
from plugin.extensions import db
from plugin.terminal import echo

users = AppGroup("users", help="Manage user accounts.")


@contextmanager
def _saved() -> Iterator[None]:
    """Commit the service calls inside; an ``AccountError`` undoes them and exits with its line."""
    try:
        yield
    except AccountError as error:
        discard_work()
        raise click.ClickException(str(error)) from None
    commit()


def _user_or_fail(email: str) -> User:
    user = get_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No user with the email {normalize_email(email)!r}.")
    return user


def _read_password(from_stdin: bool, email: str) -> str:
    if from_stdin:
        # One line, without its line ending; any other character is part of the password.
        return sys.stdin.readline().rstrip("\r\n")

    def check(value: str) -> str:
        problem = password_problem(value, email)
        if problem:
            raise click.BadParameter(problem)
        return value

    return click.prompt("Password", hide_input=True, confirmation_prompt=True, value_proc=check)


@users.command("create")
@click.argument("email")
@click.option("--admin", is_flag=True, help="Make the account an administrator.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
def create_command(email: str, admin: bool, password_stdin: bool) -> None:
    """Create an account for EMAIL (the password is asked for twice unless --password-stdin)."""
    password = _read_password(password_stdin, normalize_email(email))
    with _saved():
        user = create_user(email, password, is_admin=admin, by_operator=True)
    echo(f"Created {'admin ' if user.is_admin else ''}user {user.email} (id {user.id}).")


@users.command("create-reviewer")
@click.argument("email", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def create_reviewer_command(email: str | None, as_json: bool) -> None:
    """Create an account for an app directory's reviewer, with sample data.

    It signs in with the generated password alone (printed once), whatever passkey or
    e-mail verification rules apply to others. EMAIL defaults to a fresh reviewer-…@ address
    on PLUGIN_CONTACT_EMAIL's domain. Disable it after the review: users disable EMAIL.
    """
    with _saved():
        user, password = create_reviewer(email)
    if as_json:
        click.echo(json.dumps({"id": user.id, "email": user.email, "password": password}))
        return
    echo(f"Created reviewer account {user.email} (id {user.id}).")
    echo(f"  e-mail:   {user.email}")
    echo(f"  password: {password}")
    echo(
        "Give both to the directory's reviewer; afterwards: flask --app plugin users disable "
        f"{user.email}"
    )


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
def list_command(as_json: bool) -> None:
    """List every account."""
    rows = db.session.scalars(sa.select(User).order_by(User.id)).all()
    if as_json:
        click.echo(json.dumps([_as_dict(user) for user in rows], indent=2))
        return
    if not rows:
        click.echo("No users yet. Create one with: flask --app plugin users create EMAIL --admin")
        return
    for user in rows:
        flags = [
            name for name, on in (("admin", user.is_admin), ("disabled", user.is_disabled)) if on
        ]
        last = user.last_login_at.strftime("%Y-%m-%d %H:%M") if user.last_login_at else "never"
        echo(f"{user.id:>5}  {user.email:<40} {','.join(flags) or '-':<15} last login {last}")


def _as_dict(user: User) -> dict[str, object]:
    return {
        "id": user.id,
        "email": user.email,
        "is_admin": user.is_admin,
        "is_disabled": user.is_disabled,
        "email_verified_at": user.email_verified_at.isoformat() + "Z"
        if user.email_verified_at
        else None,
        "created_at": user.created_at.isoformat() + "Z",
        "last_login_at": user.last_login_at.isoformat() + "Z" if user.last_login_at else None,
    }


@users.command("set-admin")
@click.argument("email")
@click.option("--remove", is_flag=True, help="Take admin rights away instead.")
def set_admin_command(email: str, remove: bool) -> None:
    """Make EMAIL an administrator (or, with --remove, no longer one)."""
    user = _user_or_fail(email)
    with _saved():
        set_admin(user, not remove)
    echo(f"{user.email} is {'no longer ' if remove else 'now '}an admin.")


@users.command("disable")
@click.argument("email")
def disable_command(email: str) -> None:
    """Disable EMAIL: sign it out everywhere and refuse its logins and tokens."""
    user = _user_or_fail(email)
    with _saved():
        set_disabled(user, True)
    echo(f"{user.email} is disabled and signed out everywhere.")


@users.command("enable")
@click.argument("email")
def enable_command(email: str) -> None:
    """Let a disabled EMAIL log in again."""
    user = _user_or_fail(email)
    with _saved():
        set_disabled(user, False)
    echo(f"{user.email} is enabled.")
