"""Database failures in CLI commands become one clear line instead of a traceback."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import click
from flask import current_app
from flask.cli import ScriptInfo
from sqlalchemy.exc import SQLAlchemyError

from plugin.database import discard_work
from plugin.database_errors import database_problem, missing_database_file


def friendly_database_errors(command: click.Command, *, creates_database: bool = False) -> None:
    """Wrap ``command`` (and every command of a group) so database errors exit cleanly.

    Unless the command ``creates_database`` (migrations), a SQLite file that does not exist
    is reported as such before the command runs, instead of being created empty.
    """
    if isinstance(command, click.Group):
        for subcommand in command.commands.values():
            friendly_database_errors(subcommand, creates_database=creates_database)
        return
    callback = command.callback
    if callback is None or getattr(callback, "friendly_database_errors", False):
        return
    command.callback = _wrap(callback, creates_database)


def _wrap(callback: Callable[..., Any], creates_database: bool) -> Callable[..., Any]:
    @wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        if not creates_database:
            problem = missing_database_file(_database_url())
            if problem:
                raise click.ClickException(problem)
        try:
            return callback(*args, **kwargs)
        except SQLAlchemyError as error:
            discard_work()
            raise click.ClickException(database_problem(error)) from None

    run.friendly_database_errors = True  # type: ignore[attr-defined]
    return run


def _database_url() -> str:
    # Flask's with_appcontext, which loads the app, wraps the callback inside this one.
    app = (
        current_app
        if current_app
        else click.get_current_context().ensure_object(ScriptInfo).load_app()
    )
    return str(app.config["SQLALCHEMY_DATABASE_URI"])
