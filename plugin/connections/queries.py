"""Connection traces read for people: the admin page, ``flask connections tail``, counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from plugin.clock import utcnow
from plugin.connections.models import ConnectionTrace, stalled_clause
from plugin.extensions import db


def query_traces(
    *,
    client: str | None = None,
    person: str | None = None,
    outcome: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[ConnectionTrace]:
    """Traces newest first, with their steps; the admin page and the CLI share this.

    ``client`` is the exact client_id or part of its name; ``person`` part of an email.
    """
    statement = sa.select(ConnectionTrace).options(selectinload(ConnectionTrace.steps))
    if client:
        text = client.strip()
        statement = statement.where(
            (ConnectionTrace.client_id == text)
            | sa.func.lower(ConnectionTrace.client_name).contains(text.lower(), autoescape=True)
        )
    if person:
        statement = statement.where(
            sa.func.lower(ConnectionTrace.user_email).contains(
                person.strip().lower(), autoescape=True
            )
        )
    # A stalled trace (code never exchanged, tokens never used) counts as failed, though its
    # stored outcome is still pending.
    stalled = stalled_clause(utcnow())
    if outcome == "failed":
        statement = statement.where((ConnectionTrace.outcome == "failed") | stalled)
    elif outcome == "pending":
        statement = statement.where(ConnectionTrace.outcome == "pending", sa.not_(stalled))
    elif outcome:
        statement = statement.where(ConnectionTrace.outcome == outcome)
    if before_id is not None:
        statement = statement.where(ConnectionTrace.id < before_id)
    statement = statement.order_by(ConnectionTrace.id.desc()).limit(max(0, limit))
    return list(db.session.scalars(statement))


def count_failed(client_id: str) -> int:
    """How many of the client's kept traces ended failed (stalled ones included)."""
    statement = sa.select(sa.func.count()).where(
        ConnectionTrace.client_id == client_id,
        (ConnectionTrace.outcome == "failed") | stalled_clause(utcnow()),
    )
    return db.session.scalar(statement) or 0


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds") + "Z"


def trace_as_dict(trace: ConnectionTrace) -> dict[str, Any]:
    failure = trace.failure
    return {
        "id": trace.id,
        "started": _iso(trace.started_at),
        "updated": _iso(trace.updated_at),
        "outcome": trace.status,
        "client_id": trace.client_id,
        "client_name": trace.client_name,
        "user": trace.user_email,
        "audience": trace.audience,
        "failed_step": failure.step if failure else None,
        "reason": failure.reason if failure else None,
        "fix": failure.fix if failure else None,
        "steps": [
            {
                "time": _iso(step.at),
                "step": step.step,
                "ok": step.ok,
                "reason": step.reason,
                "fix": step.fix,
                "repeats": step.repeats,
                "details": step.details or {},
            }
            for step in trace.shown_steps
        ],
    }
