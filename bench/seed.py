"""Fill a benchmark database: people, their todos, one client, and tokens in bulk.

Token rows are written the way the app stores them (SHA-256 digests of the values), but in
bulk: ``COPY`` on PostgreSQL and one ``executemany`` transaction on SQLite, so that a million
rows take seconds rather than the hours the ORM would need.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask

from plugin.accounts.services import create_user
from plugin.clock import utcnow
from plugin.extensions import db
from plugin.oauth.clients.manage import create_client
from plugin.oauth.models import OAuthToken
from plugin.oauth.tokens.issue import issue_tokens
from plugin.todos.models import Todo
from plugin.todos.services import new_share_token

PASSWORD = "bench password that is long enough"  # noqa: S105 (throwaway benchmark data)
SCOPE = "todos:read todos:write"
REDIRECT_URI = "https://chat.openai.com/aip/plugin-bench/oauth/callback"
TOKEN_COLUMNS = (
    "client_id",
    "user_id",
    "access_token_hash",
    "refresh_token_hash",
    "scope",
    "issued_at",
    "access_expires_at",
    "refresh_expires_at",
    "family_id",
)
# SQLAlchemy's storage format for DateTime on SQLite.
SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"


@dataclass
class Seeded:
    """What the load scripts need: the client's credentials and one access token per person."""

    client_row_id: int
    client_id: str
    client_secret: str
    user_ids: list[int]
    access_tokens: list[str] = field(default_factory=list)


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def seed_base(app: Flask, *, users: int, todos_per_user: int) -> Seeded:
    """Create ``users`` people with their todos, one confidential client, and a token each."""
    with app.app_context():
        client, secret = create_client("Bench client", [REDIRECT_URI], SCOPE)
        people = [create_user(f"bench{n}@example.com", PASSWORD) for n in range(users)]
        db.session.flush()
        now = utcnow()
        db.session.execute(
            sa.insert(Todo),
            [
                {
                    "user_id": person.id,
                    "title": f"Todo {n} of {person.email}",
                    "notes": "Some notes to make the row realistic. " * 3,
                    "done": n % 3 == 0,
                    "share_token": new_share_token(),
                    "created_at": now,
                    "updated_at": now,
                }
                for person in people
                for n in range(todos_per_user)
            ],
        )
        tokens = [issue_tokens(client, person, SCOPE)["access_token"] for person in people]
        db.session.commit()
        return Seeded(client.id, client.client_id, secret, [p.id for p in people], tokens)


def token_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(OAuthToken)) or 0


def fill_tokens(app: Flask, seeded: Seeded, total: int) -> int:
    """Add filler rows (valid, unexpired grants) until the token table holds ``total`` rows."""
    start = token_count(app)
    missing = max(0, total - start)
    if missing:
        now = utcnow()
        rows = (
            _row(seeded, i, sha256(f"filler-a-{start + i}"), sha256(f"filler-r-{start + i}"), now)
            for i in range(missing)
        )
        bulk_insert_tokens(app, rows)
    return missing


def issue_pool(app: Flask, seeded: Seeded, count: int) -> list[tuple[str, str]]:
    """Store ``count`` fresh access/refresh pairs, each its own grant; return their values."""
    pairs = [(secrets.token_urlsafe(32), secrets.token_urlsafe(32)) for _ in range(count)]
    now = utcnow()
    bulk_insert_tokens(
        app, (_row(seeded, i, sha256(a), sha256(r), now) for i, (a, r) in enumerate(pairs))
    )
    return pairs


def _row(seeded: Seeded, i: int, access_hash: str, refresh_hash: str, now: datetime) -> tuple:
    return (
        seeded.client_row_id,
        seeded.user_ids[i % len(seeded.user_ids)],
        access_hash,
        refresh_hash,
        SCOPE,
        now,
        now + timedelta(hours=1),
        now + timedelta(days=30),
        secrets.token_hex(16),
    )


def bulk_insert_tokens(app: Flask, rows: Iterable[tuple]) -> None:
    with app.app_context():
        db.session.remove()
        raw = db.engine.raw_connection()
        try:
            if db.engine.dialect.name == "postgresql":
                _copy_postgresql(raw.driver_connection, rows)
            else:
                _insert_sqlite(raw.driver_connection, rows)
        finally:
            raw.close()


def _copy_postgresql(connection, rows: Iterable[tuple]) -> None:
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY oauth_tokens ({', '.join(TOKEN_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        # Fresh statistics, as autovacuum would give a table this size in production.
        cursor.execute("ANALYZE oauth_tokens")
    connection.commit()


def _insert_sqlite(connection, rows: Iterable[tuple]) -> None:
    placeholders = ", ".join("?" for _ in TOKEN_COLUMNS)
    columns = ", ".join(TOKEN_COLUMNS)  # constants, not input
    statement = f"INSERT INTO oauth_tokens ({columns}) VALUES ({placeholders})"  # noqa: S608
    cursor = connection.cursor()
    cursor.executemany(statement, _sqlite_values(rows))
    connection.commit()
    cursor.execute("ANALYZE oauth_tokens")
    connection.commit()
    # A million rows at once leave a WAL file of half a gigabyte, which every reader then
    # searches (measured: +0.7-1.4 ms per request); a database that grew over time would have
    # been checkpointed long ago, so fold the WAL back into the database file.
    cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    cursor.close()


def _sqlite_values(rows: Iterable[tuple]) -> Iterator[tuple]:
    for row in rows:
        yield tuple(v.strftime(SQLITE_DATETIME) if isinstance(v, datetime) else v for v in row)
