"""Answers written without marshmallow (``plain_dump``) are exactly what their schemas dump.

The OpenAPI document is built from the schemas' fields; these tests keep the hot answers,
written by hand for speed, from drifting away from it.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from plugin.api.operations import operations
from plugin.api.running import schema_instance
from plugin.extensions import db
from plugin.todos import services
from plugin.todos.models import Todo
from plugin.todos.schemas import MeSchema, TodoPageSchema, TodoSchema
from tests.helpers import make_user

HOT = (TodoSchema, TodoPageSchema, MeSchema)


def _store_todos(user_id: int) -> None:
    db.session.add_all(
        [
            Todo(
                user_id=user_id,
                title="Buy milk",
                notes="",
                done=False,
                due_date=None,
                share_token="share-one",
            ),
            Todo(
                user_id=user_id,
                title="Crème brûlée für 東京 🍮",
                notes='Ünïcödé\n"quoted"',
                done=True,
                due_date=date(2027, 2, 28),
                share_token="share-two",
                created_at=datetime(2026, 12, 1, 9, 30, 15, 123456),
                updated_at=datetime(2026, 12, 2, 23, 59, 59, 999999),
            ),
        ]
    )
    db.session.commit()


def test_every_answer_with_a_plain_dump_is_one_of_these(app):
    with app.app_context():
        declared = {
            schema
            for registered in operations()
            for schema in registered.operation.responses.values()
            if schema is not None and hasattr(schema, "plain_dump")
        }
    assert declared <= set(HOT)


def test_plain_dumps_match_the_schemas_for_rows_and_objects(app):
    person = make_user(app, "plain@example.com")
    with app.test_request_context("/api/todos"):
        _store_todos(person.id)
        rows, _ = services.list_todos(person.id)
        objects = list(db.session.scalars(sa_select_todos(person.id)))
        assert len(rows) == len(objects) == 2
        for item in [*rows, *objects]:
            plain = TodoSchema.plain_dump(item)
            assert plain == schema_instance(TodoSchema).dump(item)
            assert list(plain) == list(schema_instance(TodoSchema).fields)
        for page in ({"items": rows, "next_cursor": "dDI"}, {"items": [], "next_cursor": None}):
            assert TodoPageSchema.plain_dump(page) == schema_instance(TodoPageSchema).dump(page)


@pytest.mark.parametrize("region", [None, "US-CA"])
def test_the_profile_matches_its_schema(app, region):
    person = make_user(app, "Zoë@example.com")
    with app.test_request_context("/api/me"):
        _store_todos(person.id)
        me = {**services.profile(person.id), "region": region}
        plain = MeSchema.plain_dump(me)
        assert plain == schema_instance(MeSchema).dump(me)
        assert list(plain) == list(schema_instance(MeSchema).fields)
        assert plain["todos"] == {"total": 2, "open": 1, "done": 1}


def sa_select_todos(user_id: int):
    import sqlalchemy as sa

    return sa.select(Todo).where(Todo.user_id == user_id).order_by(Todo.id.desc())
