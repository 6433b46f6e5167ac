"""The hot paths' database work: a protected read is the token lookup and one query, however
many items it returns; the refresh grant's statements are pinned too."""

from __future__ import annotations

from contextlib import contextmanager

from tests.helpers import engine_listener, make_token


@contextmanager
def counted_statements(app):
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with engine_listener(app, "before_cursor_execute", count):
        yield statements


def create_todos(client, token: str, titles: list[str]) -> None:
    for title in titles:
        response = client.post(
            "/api/todos", json={"title": title}, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 201, response.get_json()


def list_todos(app, client, token: str) -> tuple[list[str], list[str]]:
    with counted_statements(app) as statements:
        response = client.get("/api/todos", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_json()
    return [item["title"] for item in response.get_json()["items"]], statements


def test_list_todos_takes_at_most_two_statements(app, client, token):
    create_todos(client, token, ["Buy milk", "Call the plumber", "Water the plants"])

    titles, statements = list_todos(app, client, token)

    assert titles == ["Water the plants", "Call the plumber", "Buy milk"]
    assert 1 <= len(statements) <= 2, statements


def test_statement_count_does_not_grow_with_the_page(app, client, token):
    create_todos(client, token, ["First"])
    _, few = list_todos(app, client, token)
    create_todos(client, token, [f"Item {n}" for n in range(15)])

    titles, many = list_todos(app, client, token)

    assert len(titles) == 16
    assert len(many) == len(few) <= 2, many


def test_get_me_takes_at_most_two_statements(app, client, token):
    create_todos(client, token, ["Buy milk"])
    with counted_statements(app) as statements:
        response = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["todos"] == {"total": 1, "open": 1, "done": 0}
    assert 1 <= len(statements) <= 2, statements


def test_an_mcp_tool_call_takes_at_most_two_statements(app, client, user, oauth_client):
    mcp_token = make_token(app, user, oauth_client, resource="http://localhost/mcp")
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "listTodos", "arguments": {}},
    }
    headers = {
        "Authorization": f"Bearer {mcp_token['access_token']}",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2025-11-25",
    }
    # A grant's first call is noted once in its connection trace; count a later one.
    assert client.post("/mcp", json=body, headers=headers).status_code == 200
    with counted_statements(app) as statements:
        response = client.post("/mcp", json=body, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "result" in response.get_json()
    assert 1 <= len(statements) <= 2, statements


def _refresh(client, oauth_client, refresh_token):
    response = client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=(oauth_client.client_id, oauth_client.client_secret),
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_refresh_grant_takes_five_statements(app, client, user, oauth_client):
    # The client; the refresh token with its person and client; the audit record; the new
    # pair; the conditional UPDATE retiring the old one.
    pair = make_token(app, user, oauth_client)
    with counted_statements(app) as first:
        pair = _refresh(client, oauth_client, pair["refresh_token"])
    with counted_statements(app) as statements:
        _refresh(client, oauth_client, pair["refresh_token"])
    kinds = [statement.split()[0] for statement in statements]
    assert kinds == ["SELECT", "SELECT", "INSERT", "INSERT", "UPDATE"], statements
    # The client's first use is written (a sixth statement); later ones within the minute
    # are not.
    assert [statement.split()[0] for statement in first] == [
        "SELECT",
        "SELECT",
        "INSERT",
        "UPDATE",
        "INSERT",
        "UPDATE",
    ], first
    assert any(s.startswith("UPDATE oauth_clients") for s in first), first
