"""Downloading and deleting an account, with the hooks the features above fill in.

Accounts never import those features: the OAuth feature, the todo list… add an exporter
for the download (``plugin.accounts.hooks.add_exporter``) and subscribe to
``user_deleting`` to delete what they hold.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from blinker import Namespace

from plugin.accounts.hooks import exported_sections
from plugin.accounts.models import User, UserSession
from plugin.accounts.passkeys import list_passkeys
from plugin.accounts.reauth import reauthentication_problem
from plugin.accounts.services import NotReauthenticated, remove_admin_unless_last
from plugin.audit.services import forget_person, record, user_activity
from plugin.clock import utcnow
from plugin.extensions import db
from plugin.mail.services import forget_address

_signals = Namespace()
# Sent with the user just before the account is deleted, inside the same transaction.
user_deleting = _signals.signal("user-deleting")


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def export_account(user: User) -> dict[str, Any]:
    """Everything the product keeps about ``user``, as one JSON document."""
    sessions = db.session.scalars(
        sa.select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id)
    )
    document: dict[str, Any] = {
        "exported_at": iso(utcnow()),
        "account": {
            "id": user.id,
            "email": user.email,
            "email_verified_at": iso(user.email_verified_at),
            "is_admin": user.is_admin,
            "created_at": iso(user.created_at),
            "last_login_at": iso(user.last_login_at),
            "has_password": user.has_password,
            "password_changed_at": iso(user.password_changed_at),
        },
        "sessions": [
            {
                "created_at": iso(s.created_at),
                "last_seen_at": iso(s.last_seen_at),
                "ip": s.ip,
                "user_agent": s.user_agent,
                "signed_in_with": s.signed_in_with,
            }
            for s in sessions
        ],
        "passkeys": [
            {"name": p.name, "created_at": iso(p.created_at), "last_used_at": iso(p.last_used_at)}
            for p in list_passkeys(user)
        ],
        "activity": user_activity(user.id),
    }
    document.update(exported_sections(user))
    record("user.data_exported", actor=user, subject=f"user:{user.id}")
    return document


def delete_account(user: User, password: str) -> None:
    """Delete the account and everything of it, once the person proved again who they are
    (their password, or a recent passkey sign-in: ``plugin.accounts.reauth``).

    The audit log keeps one ``user.deleted`` entry with the account's number only, and
    earlier entries about the person lose their address, IP and browser.
    """
    problem = reauthentication_problem(user, password)
    if problem:
        raise NotReauthenticated(problem)
    if user.is_admin:
        remove_admin_unless_last(user, "You are the last admin: make someone else an admin first.")
    user_id, email = user.id, user.email
    user_deleting.send(user)
    forget_address(email)
    db.session.delete(user)
    db.session.flush()
    forget_person(user_id, email)
    record("user.deleted", subject=f"user:{user_id}")
    db.session.flush()
