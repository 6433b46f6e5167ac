"""DS-06: a worker killed in the middle of a token exchange leaves no half-issued tokens.

The exchange (mark the code used, store the token pair) is one transaction that commits
only after everything is written. The test holds a write lock on the token table so that
the request stops inside that transaction, kills the worker with SIGKILL there, and checks
that the database shows either the complete result or nothing — and that the code can
then still be exchanged exactly once.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from datetime import timedelta

import pytest
import requests
import sqlalchemy as sa


@pytest.fixture
def code(app, user, oauth_client) -> str:
    from plugin.clock import utcnow
    from plugin.digests import digest, new_secret
    from plugin.extensions import db
    from plugin.oauth.models import AuthorizationCode

    value = new_secret()
    with app.app_context():
        db.session.add(
            AuthorizationCode(
                code_hash=digest(value),
                client_id=oauth_client.id,
                user_id=user.id,
                redirect_uri=oauth_client.redirect_uri,
                scope="todos:read",
                expires_at=utcnow() + timedelta(minutes=5),
            )
        )
        db.session.commit()
    return value


class TokenTableLock:
    """Hold the token table so that the next token insert waits for the test."""

    def __init__(self, database_url: str) -> None:
        self.url = sa.make_url(database_url)
        self.engine = None
        self.connection = None

    def __enter__(self) -> TokenTableLock:
        if self.url.get_backend_name() == "sqlite":
            # WAL mode: readers go on, every writer waits (busy_timeout) until we let go.
            self.connection = sqlite3.connect(self.url.database, isolation_level=None)
            self.connection.execute("BEGIN IMMEDIATE")
        else:
            self.engine = sa.create_engine(self.url)
            self.connection = self.engine.connect()
            self.connection.execute(sa.text("LOCK TABLE oauth_tokens IN EXCLUSIVE MODE"))
        return self

    def wait_until_blocked(self, database: str, finished: threading.Event) -> None:
        """Return once a server backend is waiting on our lock (PostgreSQL) or after a pause."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not finished.is_set():
            if self.engine is None:
                time.sleep(1.5)
                return
            with self.engine.connect() as probe:
                waiting = probe.scalar(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = :db AND wait_event_type = 'Lock'"
                    ),
                    {"db": database},
                )
            if waiting:
                return
            time.sleep(0.05)
        raise AssertionError("the token request never reached the token table")

    def __exit__(self, *exc) -> None:
        if self.engine is None:
            self.connection.execute("ROLLBACK")
            self.connection.close()
        else:
            self.connection.rollback()
            self.connection.close()
            self.engine.dispose()


def exchange(base_url: str, code: str, oauth_client) -> requests.Response:
    return requests.post(
        base_url + "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": oauth_client.redirect_uri,
            "client_id": oauth_client.client_id,
            "client_secret": oauth_client.client_secret,
        },
        timeout=30,
    )


def token_state(app) -> tuple[int, int]:
    """(tokens stored, codes marked used)."""
    from plugin.extensions import db
    from plugin.oauth.models import AuthorizationCode, OAuthToken

    with app.app_context():
        db.session.remove()
        tokens = db.session.scalar(sa.select(sa.func.count()).select_from(OAuthToken))
        used = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuthorizationCode)
            .where(AuthorizationCode.used_at.is_not(None))
        )
        return tokens, used


def test_killed_token_exchange_leaves_nothing_half_done(
    app, database_url, server_env, gunicorn_factory, oauth_client, code
):
    server = gunicorn_factory(server_env)
    (worker,) = server.worker_pids()
    outcome: dict = {}
    finished = threading.Event()

    def call() -> None:
        try:
            outcome["response"] = exchange(server.url, code, oauth_client)
        except requests.RequestException as error:
            outcome["error"] = error
        finished.set()

    with TokenTableLock(database_url) as lock:
        thread = threading.Thread(target=call)
        thread.start()
        lock.wait_until_blocked(sa.make_url(database_url).database, finished)
        if finished.is_set():
            pytest.fail(f"the token endpoint answered without waiting: {outcome}", pytrace=False)
        os.kill(worker, signal.SIGKILL)
        thread.join(15)
    assert "error" in outcome or outcome["response"].status_code >= 500, outcome

    # Nothing of the interrupted exchange was kept: no token, and the code is still unused.
    assert token_state(app) == (0, 0)

    # gunicorn replaced the worker; the same code now works once, completely.
    server.wait_until_serving()
    assert server.worker_pids() != [worker]
    response = exchange(server.url, code, oauth_client)
    assert response.status_code == 200, response.text
    assert token_state(app) == (1, 1)
    assert exchange(server.url, code, oauth_client).status_code == 400
    assert token_state(app) == (1, 1)
