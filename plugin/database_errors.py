"""What a database error means, in one line that says what to do about it."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError, SQLAlchemyError


def is_unique_violation(error: Exception) -> bool:
    """Tell whether an IntegrityError came from a unique constraint, on either database."""
    text = str(getattr(error, "orig", error)).lower()
    return "unique" in text or "duplicate key" in text


# How each driver words a missing table: SQLite's message, psycopg's class for PostgreSQL's.
MISSING_TABLE = ("no such table", "undefinedtable")
# PostgreSQL refusing a connection to a database that was never created.
MISSING_DATABASE = re.compile(r'database "(?P<name>[^"]+)" does not exist')


def _first_line(error: SQLAlchemyError) -> str:
    return str(getattr(error, "orig", None) or error).strip().splitlines()[0]


def is_missing_schema(error: SQLAlchemyError) -> bool:
    """Tell whether the error means the migrations were never applied."""
    words = f"{type(getattr(error, 'orig', error)).__name__} {_first_line(error)}".lower()
    return isinstance(error, OperationalError | ProgrammingError) and any(
        marker in words for marker in MISSING_TABLE
    )


def is_missing_database(error: SQLAlchemyError) -> bool:
    """Tell whether the server says the database itself was never created."""
    return isinstance(error, OperationalError) and bool(MISSING_DATABASE.search(_first_line(error)))


def missing_database_file(url: str) -> str | None:
    """Say what to do when ``url`` names a SQLite file that does not exist, else None."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database)
    if path.exists():
        return None
    return (
        f"The database file {path} does not exist: check DATABASE_URL, "
        "or create it with `flask --app plugin db upgrade`."
    )


def database_problem(error: SQLAlchemyError) -> str:
    """Say in one line what went wrong with the database and what to do about it."""
    if is_missing_schema(error):
        return "The database has no tables yet: run `flask --app plugin db upgrade` first."
    if is_missing_database(error):
        name = MISSING_DATABASE.search(_first_line(error)).group("name")  # type: ignore[union-attr]
        return (
            f'The database "{name}" does not exist on its server: create it '
            f"(createdb {name}) or check DATABASE_URL."
        )
    if isinstance(error, OperationalError) and "unable to open database file" in str(error):
        return (
            "Cannot open the SQLite database file: check DATABASE_URL and that its folder "
            "exists and is writable."
        )
    if isinstance(error, OperationalError):
        return (
            f"Cannot use the database ({_first_line(error)}); "
            "check DATABASE_URL and that it is running."
        )
    return f"The database refused the command: {_first_line(error)}"
