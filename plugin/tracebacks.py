"""Tracebacks fit for a log: every message on one escaped line, database errors without values.

A database's error text can quote what was sent: PostgreSQL's ``DETAIL: Failing row
contains (…)`` holds a whole row, password hash included, and an exception message can
hold a line break that would pass for a log line of its own. The frames (file, line, code)
are the application's own and are kept as Python prints them.
"""

from __future__ import annotations

import traceback

from sqlalchemy.exc import StatementError

from plugin.text import escape_controls

CAUSE = "The above exception was the direct cause of the following exception:"
CONTEXT = "During handling of the above exception, another exception occurred:"


def format_traceback(error: BaseException) -> str:
    """The traceback of ``error`` and the exceptions chained to it, oldest first."""
    chain: list[tuple[BaseException, str | None]] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        older, link = _older(current)
        chain.append((current, link if older is not None and id(older) not in seen else None))
        current = older
    # A driver's error wrapped by SQLAlchemy is shown through the wrapper, first line only.
    drivers = {id(e.orig) for e, _ in chain if isinstance(e, StatementError)}
    text = ""
    for exception, link in reversed(chain):
        if link and text:
            text += f"\n{link}\n\n"
        if exception.__traceback__ is not None:
            text += "Traceback (most recent call last):\n"
            text += "".join(traceback.format_tb(exception.__traceback__))
        text += _headline(exception, quoted_elsewhere=id(exception) in drivers) + "\n"
    return text.rstrip("\n")


def _older(error: BaseException) -> tuple[BaseException | None, str | None]:
    if error.__cause__ is not None:
        return error.__cause__, CAUSE
    if error.__context__ is not None and not error.__suppress_context__:
        return error.__context__, CONTEXT
    return None, None


def _headline(error: BaseException, *, quoted_elsewhere: bool) -> str:
    if isinstance(error, StatementError):
        statement = " ".join((error.statement or "").split())
        cause = f"({_name(error.orig)}) {_first_line(error.orig)} " if error.orig else ""
        message = f"{cause}[SQL: {statement}]"
    elif quoted_elsewhere:
        message = _first_line(error)
    else:
        message = _message(error)
    name = _name(error)
    return f"{name}: {escape_controls(message)}" if message else name


def _name(error: BaseException) -> str:
    kind = type(error)
    if kind.__module__ in ("builtins", "__main__"):
        return kind.__qualname__
    return f"{kind.__module__}.{kind.__qualname__}"


def _first_line(error: BaseException) -> str:
    lines = _message(error).strip().splitlines()
    return lines[0] if lines else ""


def _message(error: BaseException) -> str:
    try:
        return str(error)
    except Exception:  # a broken __str__ must not lose the traceback
        return "<the exception's message could not be read>"
