"""An account's passkeys (WebAuthn): listing, counting, naming, renaming, removing.

Adding one and signing in with one check the browser's answers: ``passkey_checks``.
Functions flush; the view that calls them commits.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import request
from sqlalchemy.orm import aliased

from plugin.accounts.ceremonies import PasskeyError
from plugin.accounts.hooks import passkey_refusal
from plugin.accounts.models import Passkey, User
from plugin.accounts.reauth import reauthentication_problem
from plugin.audit.services import record
from plugin.database import rows_affected
from plugin.extensions import db
from plugin.text import text_problem
from plugin.useragents import describe_user_agent

NAME_LENGTH = 100

LAST_WAY_IN = (
    "This is your account's only passkey and it has no password, so removing it would lock "
    "you out. Set a password or add another passkey first."
)


def clean_name(name: object) -> str:
    """The name a person gives a passkey, or one naming this browser; PasskeyError if unusable."""
    text = name.strip() if isinstance(name, str) else ""
    if not text:
        return f"Passkey on {describe_user_agent(request.user_agent.string)}"[:NAME_LENGTH]
    problem = text_problem(text)
    if problem is None and len(text) > NAME_LENGTH:
        problem = f"Use at most {NAME_LENGTH} characters."
    if problem:
        raise PasskeyError(problem, "bad_name", field="name")
    return text


def list_passkeys(user: User) -> list[Passkey]:
    return list(
        db.session.scalars(
            sa.select(Passkey).where(Passkey.user_id == user.id).order_by(Passkey.id)
        )
    )


def has_passkeys(user: User) -> bool:
    return (
        db.session.scalar(sa.select(Passkey.id).where(Passkey.user_id == user.id).limit(1))
        is not None
    )


def passkey_counts(user_ids: list[int]) -> dict[int, int]:
    """How many passkeys each of these accounts has (those with none are left out)."""
    rows = db.session.execute(
        sa.select(Passkey.user_id, sa.func.count(Passkey.id))
        .where(Passkey.user_id.in_(user_ids))
        .group_by(Passkey.user_id)
    )
    return {user_id: count for user_id, count in rows}


def find_passkey(user: User, passkey_id: int) -> Passkey | None:
    """``user``'s passkey ``passkey_id``, or None (also when it is someone else's)."""
    return db.session.scalar(
        sa.select(Passkey).where(Passkey.id == passkey_id, Passkey.user_id == user.id)
    )


def refuse_if_ruled_out(user: User) -> None:
    """Refuse a passkey change the account's rules forbid (``accounts.hooks.passkey_refusal``)."""
    refusal = passkey_refusal(user)
    if refusal:
        raise PasskeyError(refusal, "ruled_out", user=user)


def rename_passkey(user: User, passkey: Passkey, name: str) -> None:
    old = passkey.name
    passkey.name = clean_name(name)
    record_passkey_event("user.passkey_renamed", user, passkey, old_name=old)
    db.session.flush()


def remove_passkey(user: User, passkey: Passkey, password: str) -> None:
    """Remove ``passkey`` once the person proved again who they are (``reauth``); never the
    last passkey of an account without a password, which would then have no way in."""
    problem = reauthentication_problem(user, password)
    if problem:
        raise PasskeyError(problem, "password", field="password")
    refuse_if_ruled_out(user)
    # Two removals at once must not each leave the other passkey as "the last one": the
    # account's row is locked first (PostgreSQL; SQLite runs one writer at a time) and the
    # DELETE itself re-checks that another passkey remains.
    db.session.execute(sa.select(User.id).where(User.id == user.id).with_for_update())
    statement = sa.delete(Passkey).where(Passkey.id == passkey.id)
    if not user.has_password:
        another = aliased(Passkey)
        statement = statement.where(
            sa.select(another.id)
            .where(another.user_id == user.id, another.id != passkey.id)
            .exists()
        )
    if rows_affected(statement, synchronize=False) != 1 and not user.has_password:
        raise PasskeyError(LAST_WAY_IN, "last_passkey", field="password")
    record_passkey_event("user.passkey_removed", user, passkey)
    db.session.expunge(passkey)


def record_passkey_event(event: str, user: User, passkey: Passkey, **details: Any) -> None:
    record(
        event,
        actor=user,
        subject=f"user:{user.id}",
        passkey_id=passkey.id,
        name=passkey.name,
        **details,
    )
