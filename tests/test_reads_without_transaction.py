"""A request that only reads runs without a transaction block on PostgreSQL; one that writes
keeps its transaction (``plugin.database.read_without_transaction``).

What is observed is PostgreSQL's own word: after every statement the server reports whether a
transaction block is open, and psycopg keeps that as the connection's transaction status.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from tests.helpers import engine_listener, make_token
from tests.mcp.mcp_helpers import LEGACY, Mcp, mcp_url


@pytest.fixture(autouse=True)
def postgresql_only(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite begins no transaction for a read: there is nothing to leave out")


@contextmanager
def transaction_states(app):
    """After each statement: whether the server holds a transaction block open for it."""
    from psycopg.pq import TransactionStatus

    states: list[bool] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        status = conn.connection.dbapi_connection.info.transaction_status
        states.append(status != TransactionStatus.IDLE)

    with engine_listener(app, "after_cursor_execute", record):
        yield states


@pytest.fixture
def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_api_reads_run_statement_by_statement(app, client, bearer):
    client.post("/api/todos", json={"title": "Milk"}, headers=bearer)
    for path in ("/api/me", "/api/todos"):
        with transaction_states(app) as in_transaction:
            assert client.get(path, headers=bearer).status_code == 200
        assert in_transaction == [False, False], path


def test_api_writes_keep_their_transaction(app, client, bearer):
    with transaction_states(app) as in_transaction:
        created = client.post("/api/todos", json={"title": "Milk"}, headers=bearer)
    assert created.status_code == 201
    assert in_transaction and all(in_transaction)
    # ... and what they wrote is there afterwards.
    assert client.get("/api/todos", headers=bearer).json["items"][0]["title"] == "Milk"


def test_mcp_reads_run_statement_by_statement_and_writes_keep_their_transaction(
    app, client, user, oauth_client
):
    token = make_token(app, user, oauth_client, resource=mcp_url(app))["access_token"]
    mcp = Mcp(client, token, LEGACY)
    with transaction_states(app) as in_transaction:
        mcp.call("createTodo", {"title": "Bread"})
    assert in_transaction and all(in_transaction)
    for method, params in (
        ("tools/call", {"name": "listTodos", "arguments": {}}),
        ("tools/call", {"name": "getMe", "arguments": {}}),
        ("tools/list", None),
    ):
        with transaction_states(app) as in_transaction:
            assert mcp.request(method, params).status_code == 200
        assert in_transaction and not any(in_transaction), method


def test_a_failed_read_leaves_the_connection_clean_for_the_next_write(app, client, bearer):
    assert client.get("/api/todos/999999", headers=bearer).status_code == 404
    with transaction_states(app) as in_transaction:
        assert client.post("/api/todos", json={"title": "Tea"}, headers=bearer).status_code == 201
    assert in_transaction and all(in_transaction)
