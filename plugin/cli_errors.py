"""Database failures in CLI commands become one clear line instead of a traceback."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from plugin.database import database_problem, discard_work


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
            discard_work()
            raise click.ClickException(database_problem(error)) from None

    run.friendly_database_errors = True  # type: ignore[attr-defined]
    return run
