"""``DATABASE_URL`` made into SQLAlchemy's URL and engine options."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from plugin.config.checks import ConfigError


def database_url(app: Flask) -> str:
    """``DATABASE_URL`` (or the instance folder's SQLite file) as SQLAlchemy's URL."""
    url = app.config["DATABASE_URL"] or f"sqlite:///{Path(app.instance_path) / 'plugin.db'}"
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"DATABASE_URL is not a database URL: {url!r}") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            "DATABASE_URL must be a sqlite:// or postgresql+psycopg:// URL "
            f"(got {parsed.drivername!r})"
        )
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return url


def engine_options(url: str) -> dict[str, Any]:
    # A failed statement's message then shows the SQL without its values (password hashes,
    # token digests, emails), wherever it ends up: the error log, a CLI message.
    common: dict[str, Any] = {"hide_parameters": True}
    if url.startswith("sqlite"):
        # SQLite waits for a busy writer instead of failing at once (WAL is set per connection).
        return {**common, "connect_args": {"timeout": 15}}
    return {
        **common,
        # A connection that died while idle (database restarted, failover) is noticed and
        # replaced at checkout, so workers recover without a restart: plugin/database_engine.py
        # pings connections that sat idle, not every checkout (a round trip per request).
        "pool_pre_ping": False,
        "pool_recycle": 1800,
        # A sync worker uses one connection at a time, a gthread worker one per thread.
        "pool_size": 5,
        "max_overflow": 5,
        # Waiting longer than this for a connection answers 503 instead of piling up.
        "pool_timeout": 2,
        "connect_args": {
            "connect_timeout": 2,
            # A database host that vanishes without closing connections (no RST) is given
            # up on in seconds, not after the kernel's 15-minute retransmission timeout.
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 5,
            "keepalives_count": 3,
            "tcp_user_timeout": 5000,
        },
    }
