"""Accounts for the app directories' reviewers: a password alone signs them in.

OpenAI's and Anthropic's reviewers sign in with credentials the operator hands over in the
submission form; they cannot read mail at the account's address nor use its passkeys. A
reviewer account is therefore made with its address already verified (the operator vouches
for it), is never an admin (the only accounts passkeys can be required of), starts with
sample data from the features that subscribe to ``reviewer_created``, and is disabled with
``flask users disable`` once the review is over. Every step lands in the audit log.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from blinker import Namespace
from flask import current_app

from plugin.accounts.models import User
from plugin.accounts.services import create_user
from plugin.audit.models import AuditEvent
from plugin.audit.services import record
from plugin.clock import utcnow
from plugin.extensions import db

CREATED = "user.reviewer_created"

_signals = Namespace()
# Sent with the new reviewer inside the same transaction: features above accounts (the todo
# list) add the sample data a reviewer tries the app with.
reviewer_created = _signals.signal("reviewer-created")


def reviewer_address() -> str:
    """A fresh address on the operator's contact domain, e.g. ``reviewer-3f9a1c@example.com``."""
    domain = current_app.config["PLUGIN_CONTACT_EMAIL"].rpartition("@")[2] or "example.com"
    return f"reviewer-{secrets.token_hex(3)}@{domain}"


def create_reviewer(email: str | None = None, *, actor: User | None = None) -> tuple[User, str]:
    """Make a reviewer account and return it with its generated password (shown only now).

    Raises AccountError (a bad or taken address) as ``create_user`` does.
    """
    password = secrets.token_urlsafe(15)
    user = create_user(email or reviewer_address(), password, actor=actor, by_operator=True)
    # Reviewers cannot open a verification e-mail; REQUIRE_VERIFIED_EMAIL must not stop them.
    user.email_verified_at = utcnow()
    reviewer_created.send(user)
    record(CREATED, actor=actor, subject=f"user:{user.id}", email=user.email)
    db.session.flush()
    return user, password


def list_reviewers() -> list[User]:
    """Every reviewer account still present, oldest first."""
    subjects = db.session.scalars(
        sa.select(AuditEvent.subject).where(AuditEvent.event == CREATED)
    ).all()
    ids = {int(subject[5:]) for subject in subjects if subject and subject[5:].isdigit()}
    return list(db.session.scalars(sa.select(User).where(User.id.in_(ids)).order_by(User.id)))
