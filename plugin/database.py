"""Per-connection database settings, and ending each request's session safely."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from flask import Flask, Response, g, has_request_context
from sqlalchemy import CursorResult, Engine, Executable, event, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DisconnectionError, OperationalError, ProgrammingError, SQLAlchemyError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import GenericFunction

from plugin.extensions import Model, db

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "connect", _sqlite_functions)
    else:
        ping_when_idle(engine)
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


# A connection in steady use proves itself alive with every statement; pinging it at each
# checkout (pool_pre_ping) cost a round trip on every request. Only a connection idle this
# long is pinged before use. One that dies while busy fails its statement, which invalidates
# the pool's older connections too, so the next requests get fresh ones.
PING_IDLE_SECONDS = 5.0
CHECKED_IN_AT = "plugin.checked_in_at"


def ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection at checkout only if it sat idle ``PING_IDLE_SECONDS``."""

    def stamp(dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        record.info[CHECKED_IN_AT] = time.monotonic()

    def ping(
        dbapi_connection: DBAPIConnection,
        record: ConnectionPoolEntry,
        proxy: PoolProxiedConnection,
    ) -> None:
        since = record.info.get(CHECKED_IN_AT)
        if since is None or time.monotonic() - since < PING_IDLE_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool drops this connection and checks out another (or a new one).
            raise DisconnectionError(str(error)) from error
        if not alive:
            raise DisconnectionError("the database did not answer the ping")

    if not event.contains(engine.pool, "checkin", stamp):
        event.listen(engine.pool, "checkin", stamp)
        event.listen(engine.pool, "checkout", ping)


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: object) -> None:
    # WAL lets readers run beside one writer; busy_timeout makes writers wait instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


# Lower case like the SQL functions it stands for (sa.func.lower).
class unicode_lower(GenericFunction[str]):
    """``lower()`` that lowers every letter, as PostgreSQL's does, on SQLite too."""

    type = sa.String()
    inherit_cache = True


@compiles(unicode_lower)
def _lower(element: unicode_lower, compiler: SQLCompiler, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(unicode_lower, "sqlite")
def _sqlite_unicode_lower(element: unicode_lower, compiler: SQLCompiler, **kw: Any) -> str:
    return f"unicode_lower({compiler.process(element.clauses, **kw)})"


def _sqlite_functions(dbapi_connection: DBAPIConnection, _record: object) -> None:
    # SQLite's own lower() changes only A-Z: "ÄPFEL" stayed "Äpfel" and a search for
    # "äpfel" missed it. Python's str.lower lowers what PostgreSQL's lower() does.
    dbapi_connection.create_function("unicode_lower", 1, _python_lower, deterministic=True)


def _python_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


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
