"""Write and read audit events. Callers flush; the request or command commits."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request

from plugin.audit.models import AuditEvent
from plugin.extensions import db


def record(
    event: str,
    *,
    actor: Any = None,
    subject: str | None = None,
    **details: Any,
) -> AuditEvent:
    """Add an audit event; ``actor`` is anything with ``id`` and ``email`` (a user), or None.

    Never pass secrets, codes, tokens or passwords in ``details``.
    """
    entry = AuditEvent(
        event=event,
        actor_id=getattr(actor, "id", None),
        actor_email=getattr(actor, "email", None),
        subject=subject,
        details=details or None,
    )
    if has_request_context():
        entry.ip = (request.remote_addr or "")[:64] or None
        entry.user_agent = (request.user_agent.string or "")[:255] or None
        entry.conversation_id = (request.headers.get("openai-conversation-id") or "")[:128] or None
    db.session.add(entry)
    return entry
