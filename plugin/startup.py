"""Start-up warnings: settings production runs with but should not (no public https origin,
no mail server), and services not answering.

gunicorn's master logs them once (gunicorn.conf.py), before any worker starts; the app still
starts, since a database or Redis that comes up a moment later is served without a restart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import redis
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from plugin.database_errors import database_problem, missing_database_file


def startup_warnings(config: Mapping[str, Any]) -> list[str]:
    """One line for each problem found in ``config`` (an app's loaded settings)."""
    found = (
        _base_url_warning(config),
        _mail_warning(config),
        _database_warning(config),
        _redis_warning(config),
    )
    return [warning for warning in found if warning]


def _base_url_warning(config: Mapping[str, Any]) -> str | None:
    base = config["PLUGIN_BASE_URL"]
    if not base:
        return (
            "PLUGIN_BASE_URL is not set: the manifest, OpenAPI document and links take their "
            "host from each request's Host header; set it to the public https origin."
        )
    if base.startswith("http://"):
        return (
            f"PLUGIN_BASE_URL is plain http ({base}): ChatGPT accepts only https and cookies "
            "go out without Secure; set it to the public https origin."
        )
    return None


def _mail_warning(config: Mapping[str, Any]) -> str | None:
    if config["MAIL_BACKEND"] != "console":
        return None
    return (
        "MAIL_URL is not set: reset links, verification links and address changes are "
        "written to the log and the admin outbox, not sent; set it to your SMTP server."
    )


def _database_warning(config: Mapping[str, Any]) -> str | None:
    url = config["SQLALCHEMY_DATABASE_URI"]
    missing = missing_database_file(url)
    if missing:
        return missing
    engine = sa.create_engine(url, **config["SQLALCHEMY_ENGINE_OPTIONS"])
    try:
        with engine.connect() as connection:
            # Alembic's own table: present once `db upgrade` has run.
            connection.execute(sa.text("SELECT 1 FROM alembic_version"))
    except SQLAlchemyError as error:
        return f"{database_problem(error)} Until then pages and API calls answer 503."
    finally:
        engine.dispose()
    return None


def _redis_warning(config: Mapping[str, Any]) -> str | None:
    url = config["REDIS_URL"]
    if not url:
        return None
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        client.ping()
    except redis.RedisError as error:
        return (
            f"Redis at {_where(url)} does not answer ({error.__class__.__name__}): each worker "
            "counts rate limits on its own until it does."
        )
    finally:
        client.close()
    return None


def _where(url: str) -> str:
    # Never the password a REDIS_URL may carry.
    parts = urlsplit(url)
    return parts.path if parts.scheme == "unix" else f"{parts.hostname}:{parts.port or 6379}"
