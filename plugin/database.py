"""Ending each request's session safely: one commit per request, writes kept apart from a
rollback, and the helpers services flush with."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, cast

import sqlalchemy as sa
from flask import Flask, Response, current_app, g, has_request_context
from sqlalchemy import CursorResult, Executable, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from plugin.database_engine import configure_connections
from plugin.extensions import Model, db

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
    configure_connections(engine)
    app.extensions[READS_APART] = engine.dialect.name == "postgresql"
    # Registered after Flask-SQLAlchemy's own teardown, so it runs first: if the database
    # vanished since the last statement, the ROLLBACK of closing would fail after the
    # response was built and turn it into a 500.
    app.teardown_appcontext(_end_session)
    app.after_request(_finish_unit_of_work)
    # The session class is shared by every app of the process: listen once.
    for name, listener in SESSION_LISTENERS:
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)


PENDING = "plugin.pending_writes"
READS_APART = "plugin.reads_without_transaction"
# What the session's connection runs with in a request that only reads (PostgreSQL).
EACH_STATEMENT_ON_ITS_OWN = {"isolation_level": "AUTOCOMMIT"}


def read_without_transaction() -> None:
    """Run this request's statements without a transaction block: for a request that only
    reads, called before its first statement.

    On PostgreSQL a transaction costs two round trips of its own, BEGIN and the ROLLBACK that
    returns the connection: half of a bearer read's four. Under READ COMMITTED, PostgreSQL's
    level, each statement of a transaction reads its own snapshot anyway, so the reads see
    what they would have seen. A write such a request makes all the same (the writes kept
    apart run in a transaction of their own, as always) is committed statement by statement.
    SQLite begins no transaction for a read: nothing changes there.
    """
    if not current_app.extensions.get(READS_APART):
        return
    session = db.session()
    if not session.in_transaction():
        session.connection(execution_options=EACH_STATEMENT_ON_ITS_OWN)


def _mark_pending(session: Session, _context: object) -> None:
    session.info[PENDING] = True


def _clear_pending(session: Session) -> None:
    session.info.pop(PENDING, None)


def _clear_pending_after_rollback(session: Session, previous_transaction: object) -> None:
    session.info.pop(PENDING, None)


SESSION_LISTENERS = (
    ("after_flush", _mark_pending),
    ("after_commit", _clear_pending),
    ("after_soft_rollback", _clear_pending_after_rollback),
)


def _finish_unit_of_work(response: Response) -> Response:
    # Only flushed-but-uncommitted writes are at stake here; a view that committed (or wrote
    # nothing) leaves nothing pending, so reads cost no extra statement.
    succeeded = response.status_code < 400
    if db.session().info.get(PENDING):
        if succeeded:
            commit()
        else:
            discard_work()
    _run_writes_apart(succeeded)
    return response


def _end_session(error: BaseException | None) -> None:
    # A request whose response was never finished (an error in an after_request hook) still
    # saves what had to outlive it.
    _run_writes_apart(False)
    discard_work(close=True)


WRITES_APART = "plugin.writes_apart"
WriteApart = Callable[[bool], None]


def write_apart(write: WriteApart) -> None:
    """Save what ``write`` writes whatever becomes of the request's own unit of work.

    For the few rows that must outlive a failing request: the audit event of a refusal, a
    stolen token family's revocation, a connection trace's steps. In a request, ``write`` is
    called once the request's work has been committed or discarded, before the response
    leaves, in a transaction of its own committed at once; it is told whether the request
    succeeded. Outside a request (a command, a background fetch) it runs at once, and the
    caller commits as everywhere else. Nothing else in the app commits on its own.
    """
    if has_request_context():
        g.setdefault(WRITES_APART, []).append(write)
    else:
        write(True)


def _run_writes_apart(succeeded: bool) -> None:
    writes: list[WriteApart] = g.pop(WRITES_APART, [])
    if not writes:
        return
    # Unflushed changes of the request are not its work: they would be discarded anyway.
    discard_work()
    for write in writes:
        try:
            write(succeeded)
            commit()
        except SQLAlchemyError as problem:
            discard_work()
            log.warning("a record kept apart was lost: %s", type(problem).__name__)


def commit() -> None:
    """End the unit of work: the one way a request or command saves what it did.

    Services only flush; the view or command that called them decides, once, to commit.
    The end of each request also commits what its successful response left pending (the
    session bookkeeping of ``get_current_user``), and discards it after an error.
    """
    db.session.commit()


def insert_row(model: type[Model], values: dict[str, Any]) -> None:
    """Insert one row now, in the session's transaction, without building an ORM object.

    For rows written on hot paths and never read back in the same request (tokens, audit
    events): an object added to the session and inserted by the flush cost about a sixth of
    a refresh grant (bench/instructions.py). Pending objects are flushed first, so statements
    run in the order the code reads; the row is then pending like any flushed write, and the
    request commits it or rolls it back. A string longer than its column is cut to fit.
    """
    session = db.session()
    session.flush()
    table = cast(sa.Table, model.__table__)
    session.connection().execute(table.insert(), _bounded(table, values))
    session.info[PENDING] = True


def _string_lengths(table: sa.Table) -> dict[str, int]:
    lengths: dict[str, int] | None = table.info.get("string_lengths")
    if lengths is None:
        lengths = {
            column.name: column.type.length
            for column in table.columns
            if isinstance(column.type, sa.String) and column.type.length
        }
        table.info["string_lengths"] = lengths
    return lengths


def _bounded(table: sa.Table, values: dict[str, Any]) -> dict[str, Any]:
    # Records quote what outsiders sent (client ids, agents): a value longer than its column
    # is cut rather than failing the request on PostgreSQL (SQLite would store it whole).
    lengths = _string_lengths(table)
    return {
        name: value[: lengths[name]] if isinstance(value, str) and name in lengths else value
        for name, value in values.items()
    }


def rows_affected(statement: Executable, *, synchronize: bool = True) -> int:
    """Run a bulk UPDATE or DELETE and return how many rows it matched.

    Conditional updates (``... WHERE used_at IS NULL``) use the count to find the one winner
    of a race. ``synchronize=False`` leaves objects already loaded in the session as they are,
    and runs the statement as plain Core, after flushing what is pending.
    """
    session = db.session()
    if synchronize:
        result = session.execute(statement)
    else:
        session.flush()
        result = session.connection().execute(statement)
    return cast("CursorResult[Any]", result).rowcount or 0


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
