"""Per-connection database settings, and ending each request's session safely."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError

from plugin.extensions import db


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    # Registered after Flask-SQLAlchemy's own teardown, so it runs before it.
    app.teardown_appcontext(_close_session)


def _close_session(_error: BaseException | None) -> None:
    # Closing rolls back; if the database vanished since the last statement that ROLLBACK
    # fails after the response was built and would turn it into a 500. Drop the connection.
    try:
        db.session.close()
    except SQLAlchemyError:
        db.session().invalidate()


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
    # WAL lets readers run beside one writer; busy_timeout makes writers wait instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def is_unique_violation(error: Exception) -> bool:
    """Tell whether an IntegrityError came from a unique constraint, on either database."""
    text = str(getattr(error, "orig", error)).lower()
    return "unique" in text or "duplicate key" in text

