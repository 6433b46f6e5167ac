"""Per-connection database settings, and ending each request's session safely."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event
from sqlalchemy.exc import OperationalError, ProgrammingError, SQLAlchemyError

from plugin.extensions import db


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    # Registered after Flask-SQLAlchemy's own teardown, so it runs first: if the database
    # vanished since the last statement, the ROLLBACK of closing would fail after the
    # response was built and turn it into a 500.
    app.teardown_appcontext(lambda _error: discard_work(close=True))


def discard_work(*, close: bool = False) -> None:
    """Roll the session back (or close it, at the end of a request); if its connection is
    gone, drop the connection without talking to it again."""
    try:
        if close:
            db.session.close()
        else:
            db.session.rollback()
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


# How each driver words a missing table: SQLite, psycopg's class name, PostgreSQL's message.
MISSING_SCHEMA = ("no such table", "undefinedtable", "does not exist")


def _first_line(error: SQLAlchemyError) -> str:
    return str(getattr(error, "orig", None) or error).strip().splitlines()[0]


def is_missing_schema(error: SQLAlchemyError) -> bool:
    """Tell whether the error means the migrations were never applied."""
    words = f"{type(getattr(error, 'orig', error)).__name__} {_first_line(error)}".lower()
    return isinstance(error, OperationalError | ProgrammingError) and any(
        marker in words for marker in MISSING_SCHEMA
    )


def database_problem(error: SQLAlchemyError) -> str:
    """Say in one line what went wrong with the database and what to do about it."""
    if is_missing_schema(error):
        return "The database has no tables yet: run `flask --app plugin db upgrade` first."
    if isinstance(error, OperationalError):
        return (
            f"Cannot use the database ({_first_line(error)}); "
            "check DATABASE_URL and that it is running."
        )
    return f"The database refused the command: {_first_line(error)}"
