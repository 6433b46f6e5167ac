"""Write and read audit events. The request or command commits what is written."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import has_request_context, request

from plugin.audit.models import AuditEvent
from plugin.database import insert_row
from plugin.extensions import db
from plugin.web import request_header


def record(
    event: str,
    *,
    actor: Any = None,
    subject: str | None = None,
    **details: Any,
) -> None:
    """Write an audit event in the current transaction; ``actor`` is anything with ``id`` and
    ``email`` (a user), or None. The request or command commits it with the rest.

    Never pass secrets, codes, tokens or passwords in ``details``.
    """
    values: dict[str, Any] = {
        "event": event,
        "actor_id": getattr(actor, "id", None),
        "actor_email": getattr(actor, "email", None),
        "subject": subject,
        "details": details or None,
    }
    if has_request_context():
        values["ip"] = (request.remote_addr or "")[:64] or None
        values["user_agent"] = request_header("User-Agent")[:255] or None
        values["conversation_id"] = request_header("OpenAI-Conversation-ID")[:128] or None
    insert_row(AuditEvent, values)


def query_events(
    event: str | None = None,
    actor: str | None = None,
    subject: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[AuditEvent]:
    """Return matching events, newest first; the admin page and ``audit tail`` share this.

    ``event`` matches exactly, or as a prefix when it ends with ``.`` or ``*`` (``client.``);
    ``actor`` is part of the actor's email; ``subject`` matches exactly (``user:3``);
    ``since`` is inclusive and ``until`` exclusive; ``before_id`` continues a page.
    """
    statement = sa.select(AuditEvent)
    if event:
        if event.endswith(("*", ".")):
            prefix = event.rstrip("*")
            statement = statement.where(AuditEvent.event.startswith(prefix, autoescape=True))
        else:
            statement = statement.where(AuditEvent.event == event)
    if actor:
        statement = statement.where(
            sa.func.lower(AuditEvent.actor_email).contains(actor.strip().lower(), autoescape=True)
        )
    if subject:
        statement = statement.where(AuditEvent.subject == subject.strip())
    if since is not None:
        statement = statement.where(AuditEvent.created_at >= since)
    if until is not None:
        statement = statement.where(AuditEvent.created_at < until)
    if before_id is not None:
        statement = statement.where(AuditEvent.id < before_id)
    # Ids grow with time and, unlike timestamps, never tie: a stable order for paging.
    statement = statement.order_by(AuditEvent.id.desc()).limit(max(0, limit))
    return list(db.session.scalars(statement))


def count_events(*, since: datetime | None = None) -> int:
    statement = sa.select(sa.func.count()).select_from(AuditEvent)
    if since is not None:
        statement = statement.where(AuditEvent.created_at >= since)
    return db.session.scalar(statement) or 0


def event_types() -> list[str]:
    """The distinct event names recorded so far, for a filter's choices."""
    return list(
        db.session.scalars(sa.select(AuditEvent.event).distinct().order_by(AuditEvent.event))
    )


def event_as_dict(entry: AuditEvent) -> dict[str, Any]:
    return {
        "id": entry.id,
        "time": entry.created_at.isoformat(timespec="seconds") + "Z",
        "event": entry.event,
        "actor_id": entry.actor_id,
        "actor": entry.actor_email,
        "subject": entry.subject,
        "ip": entry.ip,
        "user_agent": entry.user_agent,
        "conversation_id": entry.conversation_id,
        "details": entry.details or {},
    }


def user_activity(user_id: int, limit: int = 1000) -> list[dict[str, Any]]:
    """The person's own recent events (for "Download my data"), newest first."""
    rows = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.actor_id == user_id)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    return [
        {key: value for key, value in event_as_dict(row).items() if key not in ("id", "actor_id")}
        for row in rows
    ]


REDACTED = "(deleted account)"
# Details that name a person by address.
ADDRESS_DETAILS = ("email", "user", "old_email", "new_email")


def forget_person(user_id: int, email: str) -> int:
    """Strip a deleted person's address, IP and browser from the log; the events stay.

    Returns how many events were changed.
    """
    rows = db.session.scalars(
        sa.select(AuditEvent).where(
            sa.or_(
                AuditEvent.actor_id == user_id,
                AuditEvent.subject == f"user:{user_id}",
                AuditEvent.actor_email == email,
                AuditEvent.details["email"].as_string() == email,
            )
        )
    ).all()
    for row in rows:
        if row.actor_id == user_id or row.actor_email == email:
            row.actor_email = None
            row.ip = row.user_agent = row.conversation_id = None
        if row.details:
            row.details = {
                key: REDACTED if key in ADDRESS_DETAILS or value == email else value
                for key, value in row.details.items()
            }
    return len(rows)
