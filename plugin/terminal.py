"""Printing stored text to a terminal: its control characters are shown, never obeyed.

An email, a client name or an audit subject can hold an escape sequence that would clear,
recolour or retitle the operator's terminal, or a line break that would pass for another
row of a listing. Commands print such values through ``echo``; ``--json`` output needs
nothing more, since ``json.dumps`` escapes control characters itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import click

from plugin.text import escape_controls

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def echo(line: str) -> None:
    """Print one line, with every control character in it written as an escape."""
    click.echo(escape_controls(line))


def tail_options(what: str, *, default: int, most: int) -> Callable[[F], F]:
    """Add ``-n/--lines`` (as ``count``) and ``--json`` (as ``as_json``) to a tail command."""

    def decorate(command: F) -> F:
        command = click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")(
            command
        )
        return click.option(
            "-n",
            "--lines",
            "count",
            type=click.IntRange(1, most),
            default=default,
            show_default=True,
            help=f"How many of the newest {what} to show.",
        )(command)

    return decorate


def print_tail(
    newest_first: Sequence[T],
    *,
    as_json: bool,
    as_dict: Callable[[T], dict[str, Any]],
    lines: Callable[[T], Iterable[str]],
    empty: str,
) -> None:
    """Print rows read newest first as tail does, oldest first: one JSON array, or lines."""
    rows = list(reversed(newest_first))
    if as_json:
        click.echo(json.dumps([as_dict(row) for row in rows], indent=2, default=str))
        return
    if not rows:
        click.echo(empty)
    for row in rows:
        for line in lines(row):
            echo(line)
