"""Describe the machine and the software versions a result was measured with."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
from importlib.metadata import version

import sqlalchemy as sa


def describe(postgres_url: str | None) -> dict[str, str]:
    info = {
        "CPU": _cpu_model(),
        "Cores": str(os.cpu_count()),
        "RAM": _memory(),
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "PostgreSQL": _postgres_version(postgres_url) if postgres_url else "not used",
        "wrk": _wrk_version(),
    }
    for package in ("Flask", "gunicorn", "SQLAlchemy", "Authlib", "psycopg"):
        info[package] = version(package)
    return info


def _cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _postgres_version(url: str) -> str:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return str(connection.scalar(sa.text("SHOW server_version")))
    except sa.exc.OperationalError:
        return "unreachable"
    finally:
        engine.dispose()


def _wrk_version() -> str:
    try:
        done = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)  # noqa: S607
    except OSError:
        return "not installed"
    first = (done.stdout or done.stderr).split("\n", 1)[0]
    return first.split(" Copyright", 1)[0].strip()
