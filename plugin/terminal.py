"""Printing stored text to a terminal: its control characters are shown, never obeyed.

An email, a client name or an audit subject can hold an escape sequence that would clear,
recolour or retitle the operator's terminal, or a line break that would pass for another
row of a listing. Commands print such values through ``echo``; ``--json`` output needs
nothing more, since ``json.dumps`` escapes control characters itself.
"""

from __future__ import annotations

import click

from plugin.text import escape_controls


def echo(line: str) -> None:
    """Print one line, with every control character in it written as an escape."""
    click.echo(escape_controls(line))
