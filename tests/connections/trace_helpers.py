"""Helpers for the connection-trace tests."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa


def wait(app, minutes: int) -> None:
    """Move every trace and step ``minutes`` into the past, as if that time went by."""
    from plugin.connections.models import ConnectionTrace, TraceStep
    from plugin.extensions import db

    with app.app_context():
        # Row by row: SQLite has no interval arithmetic on stored datetimes.
        for row in db.session.scalars(sa.select(ConnectionTrace)):
            row.updated_at -= timedelta(minutes=minutes)
        for step in db.session.scalars(sa.select(TraceStep)):
            step.at -= timedelta(minutes=minutes)
        db.session.commit()
