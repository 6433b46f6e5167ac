"""Database failures in CLI commands become one clear line instead of a traceback."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import click
from sqlalchemy.exc import OperationalError, ProgrammingError, SQLAlchemyError

from plugin.extensions import db

MISSING_SCHEMA = ("no such table", "undefinedtable", "does not exist")


def database_problem(error: SQLAlchemyError) -> str:
    """Say in one line what went wrong with the database and what to do about it."""
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
    lowered = f"{type(getattr(error, 'orig', error)).__name__} {reason}".lower()
    if isinstance(error, OperationalError | ProgrammingError) and any(
        marker in lowered for marker in MISSING_SCHEMA
    ):
        return "The database has no tables yet: run `flask --app plugin db upgrade` first."
    if isinstance(error, OperationalError):
        return f"Cannot use the database ({reason}); check DATABASE_URL and that it is running."
    return f"The database refused the command: {reason}"


def friendly_database_errors(command: click.Command) -> None:
    """Wrap ``command`` (and every command of a group) so database errors exit cleanly."""
    if isinstance(command, click.Group):
        for subcommand in command.commands.values():
            friendly_database_errors(subcommand)
        return
    callback = command.callback
    if callback is None or getattr(callback, "friendly_database_errors", False):
        return
    command.callback = _wrap(callback)


def _wrap(callback: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except SQLAlchemyError as error:
            try:
                db.session.rollback()
            except SQLAlchemyError:
                db.session().invalidate()
            raise click.ClickException(database_problem(error)) from None

    run.friendly_database_errors = True  # type: ignore[attr-defined]
    return run
