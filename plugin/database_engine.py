"""Per-connection database settings: SQLite's pragmas and ``unicode_lower``, and a ping for a
pooled connection that sat idle."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine, event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import GenericFunction


def configure_connections(engine: Engine) -> None:
    """Apply the settings of ``engine``'s dialect to every connection it opens."""
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "connect", _sqlite_functions)
    else:
        ping_when_idle(engine)


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
