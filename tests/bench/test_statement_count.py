"""listTodos is the hot path: one bearer-token lookup and one page query, however many items."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from plugin.extensions import db


@contextmanager
def counted_statements(app):
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


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
