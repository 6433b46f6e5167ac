"""A known set of audit events at known times, for the audit CLI, query and page tests."""

from __future__ import annotations

from datetime import datetime

from plugin.audit.models import AuditEvent
from plugin.extensions import db

EVENTS = [
    # (time, event, actor, subject, details)
    ("2026-03-01 09:00", "user.signup", "ann@example.com", "user:1", None),
    ("2026-03-02 10:00", "client.created", "boss@example.com", "client:abc", {"name": "ChatGPT"}),
    ("2026-03-03 11:00", "client.secret_rotated", "boss@example.com", "client:abc", None),
    ("2026-03-04 12:00", "user.login", "ann@example.com", "user:1", None),
    ("2026-03-05 13:00", "client.disabled", "boss@example.com", "client:abcd", None),
]


def seed_events(app) -> list[int]:
    """Store EVENTS (oldest first) with an IP, user agent and conversation id; return their ids."""
    with app.app_context():
        rows = []
        for when, event, actor, subject, details in EVENTS:
            row = AuditEvent(
                created_at=datetime.strptime(when, "%Y-%m-%d %H:%M"),
                event=event,
                actor_email=actor,
                subject=subject,
                details=details,
                ip="203.0.113.7",
                user_agent="Mozilla/5.0 ChatGPT-User/1.0",
                conversation_id="conv-42" if event == "user.login" else None,
            )
            db.session.add(row)
            rows.append(row)
        db.session.commit()
        return [row.id for row in rows]
