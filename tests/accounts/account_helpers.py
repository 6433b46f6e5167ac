"""Helpers for the account tests: reading the database and comparing pages."""

from __future__ import annotations

import re

import sqlalchemy as sa

from plugin.accounts.models import User
from plugin.audit.models import AuditEvent
from plugin.extensions import db


def user_count(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count()).select_from(User).where(User.email == email)
        )


def audit_events(app, event: str) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.event == event)).all()
        db.session.expunge_all()
        return list(rows)


def is_signed_in(client) -> bool:
    """Whether the client's cookie opens /account (a signed-out visitor is sent to /login)."""
    response = client.get("/account")
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


def without_tokens(html: str) -> str:
    """The page with its per-request CSRF tokens blanked, for comparing two answers."""
    return re.sub(r'(name="csrf_token"[^>]*value=")[^"]+', r"\1", html)
