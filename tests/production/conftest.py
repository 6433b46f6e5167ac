"""Fixtures for the production tests; the servers themselves are in servers.py."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import SECRET_KEY, Gunicorn, PrivateRedis


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed; the Redis tests need it", pytrace=False)
    redis = PrivateRedis()
    redis.start()
    yield redis
    redis.stop()


@pytest.fixture
def instance_path(tmp_path) -> Path:
    """An empty instance folder: no stray secret key or config file from the repository."""
    path = tmp_path / "instance"
    path.mkdir()
    return path


@pytest.fixture
def server_env(database_url, instance_path) -> dict[str, str]:
    """Production-like settings for gunicorn processes sharing the test database."""
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "PLUGIN_INSTANCE_PATH": str(instance_path),
    }


@pytest.fixture
def shared_redis_env(server_env) -> dict[str, str]:
    """The machine's Redis, with a key prefix no other test run uses."""
    return {
        **server_env,
        "REDIS_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
        "RATELIMIT_KEY_PREFIX": f"plugin-test-{secrets.token_hex(6)}",
    }


@pytest.fixture
def gunicorn_factory() -> Iterator:
    servers: list[Gunicorn] = []

    def start(env: dict[str, str], workers: int = 1) -> Gunicorn:
        server = Gunicorn(env, workers)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
