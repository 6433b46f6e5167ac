"""The todo list's operations, shared by the API and the pages. Callers commit."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

import sqlalchemy as sa

from plugin.accounts.lifecycle import user_deleting
from plugin.accounts.models import User
from plugin.confirmations.services import ActionFailed, register_action
from plugin.database import rows_affected
from plugin.database_engine import unicode_lower
from plugin.extensions import db
from plugin.todos.models import Todo

DELETE_OPERATION = "todos.delete"
LIKE_ESCAPE = "\\"


def new_share_token() -> str:
    return secrets.token_urlsafe(24)  # 192 bits: the preview link cannot be guessed


_todos = Todo.__table__
# The columns an item's answer shows; pages are read as rows, not ORM objects.
ITEM_COLUMNS = (
    _todos.c.id,
    _todos.c.title,
    _todos.c.notes,
    _todos.c.done,
    _todos.c.due_date,
    _todos.c.share_token,
    _todos.c.created_at,
    _todos.c.updated_at,
)
# The first page without filters, which most calls ask for, is built once.
FIRST_PAGE = (
    sa.select(*ITEM_COLUMNS)
    .where(_todos.c.user_id == sa.bindparam("user_id"))
    .order_by(_todos.c.id.desc())
    .limit(sa.bindparam("limit"))
)


def list_todos(
    user_id: int,
    *,
    q: str | None = None,
    done: bool | None = None,
    before_id: int | None = None,
    limit: int = 20,
) -> tuple[list[sa.Row[*tuple[Any, ...]]], int | None]:
    """One page of the person's todos, newest first, and the id the next page starts below."""
    statement = FIRST_PAGE
    if q or done is not None or before_id is not None:
        statement = sa.select(*ITEM_COLUMNS).where(_todos.c.user_id == sa.bindparam("user_id"))
        if q:
            pattern = "%" + _escape_like(q.lower()) + "%"
            statement = statement.where(
                sa.or_(
                    unicode_lower(_todos.c.title).like(pattern, escape=LIKE_ESCAPE),
                    unicode_lower(_todos.c.notes).like(pattern, escape=LIKE_ESCAPE),
                )
            )
        if done is not None:
            statement = statement.where(_todos.c.done == done)
        if before_id is not None:
            statement = statement.where(_todos.c.id < before_id)
        statement = statement.order_by(_todos.c.id.desc()).limit(sa.bindparam("limit"))
    # One row more than asked tells whether another page follows, in the same statement.
    rows = list(db.session.execute(statement, {"user_id": user_id, "limit": limit + 1}))
    if len(rows) > limit:
        return rows[:limit], rows[limit - 1].id
    return rows, None


def _escape_like(text: str) -> str:
    return text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", "\\%").replace("_", "\\_")


def get_todo(user_id: int, todo_id: int) -> Todo | None:
    """The item if it belongs to ``user_id``; another person's item is None, like a missing one."""
    return db.session.scalar(sa.select(Todo).where(Todo.id == todo_id, Todo.user_id == user_id))


def find_by_share_token(share_token: str) -> Todo | None:
    if not share_token or len(share_token) > 64:
        return None
    return db.session.scalar(sa.select(Todo).where(Todo.share_token == share_token))


def create_todo(user: User, title: str, notes: str = "", due_date: date | None = None) -> Todo:
    todo = Todo(
        user_id=user.id,
        title=title,
        notes=notes or "",
        due_date=due_date,
        done=False,
        share_token=new_share_token(),
    )
    db.session.add(todo)
    db.session.flush()
    return todo


def update_todo(todo: Todo, changes: dict[str, Any]) -> Todo:
    """Apply the given fields (title, notes, done, due_date); absent fields stay as they are."""
    for name in ("title", "notes", "done", "due_date"):
        if name in changes:
            setattr(todo, name, changes[name])
    db.session.flush()
    return todo


_users = User.__table__
# Who the person is and how many todos they have, in one statement built once.
PROFILE = (
    sa.select(
        _users.c.email,
        sa.func.count(_todos.c.id).label("total"),
        sa.func.count(_todos.c.id).filter(_todos.c.done.is_(True)).label("done"),
    )
    .select_from(_users.outerjoin(_todos, _todos.c.user_id == _users.c.id))
    .where(_users.c.id == sa.bindparam("user_id"))
    .group_by(_users.c.id, _users.c.email)
)


def profile(user_id: int) -> dict[str, Any]:
    """The person's id, e-mail and todo counts (total, open, done)."""
    email, total, finished = db.session.execute(PROFILE, {"user_id": user_id}).one()
    return {
        "id": user_id,
        "email": email,
        "todos": {"total": total, "open": total - finished, "done": finished},
    }


def _perform_delete(payload: dict[str, Any], user: User) -> dict[str, Any]:
    deleted = rows_affected(
        sa.delete(Todo).where(Todo.id == payload["todo_id"], Todo.user_id == user.id)
    )
    if not deleted:
        raise ActionFailed("the item no longer exists.")
    return {"deleted": True, "todo_id": payload["todo_id"]}


def _describe_delete(payload: dict[str, Any], user: User) -> str:
    # Read now, not when ChatGPT asked: a renamed item is shown under its current title.
    todo = get_todo(user.id, payload["todo_id"])
    if todo is None:
        return f"Delete the todo “{payload['title']}” (it no longer exists)."
    return f"Delete the todo “{todo.title}”."


register_action(DELETE_OPERATION, perform=_perform_delete, describe=_describe_delete)


@user_deleting.connect
def _delete_todos_of_deleted_user(user: User, **_: Any) -> None:
    db.session.execute(sa.delete(Todo).where(Todo.user_id == user.id))


def export_todos(user: User) -> list[dict[str, Any]]:
    rows = db.session.scalars(sa.select(Todo).where(Todo.user_id == user.id).order_by(Todo.id))
    return [
        {
            "id": todo.id,
            "title": todo.title,
            "notes": todo.notes,
            "done": todo.done,
            "due_date": todo.due_date.isoformat() if todo.due_date else None,
            "created_at": todo.created_at.isoformat(timespec="seconds") + "Z",
            "updated_at": todo.updated_at.isoformat(timespec="seconds") + "Z",
        }
        for todo in rows
    ]
