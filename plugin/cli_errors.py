"""Database failures in CLI commands become one clear line instead of a traceback."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo
from sqlalchemy.exc import SQLAlchemyError

from plugin.database import database_problem, discard_work, missing_database_file


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
            problem = missing_database_file(_app().config["SQLALCHEMY_DATABASE_URI"])
            if problem:
                raise click.ClickException(problem)
        try:
            return callback(*args, **kwargs)
        except SQLAlchemyError as error:
            discard_work()
            raise click.ClickException(database_problem(error)) from None

    run.friendly_database_errors = True  # type: ignore[attr-defined]
    return run


def _app() -> Flask:
    if current_app:
        return current_app._get_current_object()  # type: ignore[attr-defined]
    return click.get_current_context().ensure_object(ScriptInfo).load_app()
