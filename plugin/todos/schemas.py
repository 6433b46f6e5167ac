"""The todo API's inputs and answers; apispec documents these same schemas."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import g
from marshmallow import Schema, ValidationError, fields, post_load, validate

from plugin.api.fields import UtcDateTime, utc_isoformat
from plugin.api.urls import external_url
from plugin.inputs import MAX_ID
from plugin.todos.models import Todo
from plugin.validators import Line, Text

MAX_PAGE = 100
TITLE = validate.Length(min=1, max=200, error="Give a title of 1 to 200 characters.")
NOTES = validate.Length(max=2000, error="Notes may be at most 2,000 characters.")


class Cursor(Line):
    """An opaque page marker; inside it is the id the next page starts below."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int:  # type: ignore[override]
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            if not decoded.startswith("t") or not decoded[1:].isdigit():
                raise ValueError
            before_id = int(decoded[1:])
            if not 1 <= before_id <= MAX_ID + 1:
                raise ValueError
            return before_id
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise ValidationError(
                "Not a cursor from a previous answer; leave it out to start over."
            ) from None

    @staticmethod
    def encode(last_id: int) -> str:
        return base64.urlsafe_b64encode(f"t{last_id}".encode()).decode().rstrip("=")


class Trimmed(Line):
    """A string with surrounding whitespace removed before it is checked."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()


class TodoSchema(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    notes = fields.String(required=True)
    done = fields.Boolean(required=True)
    due_date = fields.Date(required=True, allow_none=True)
    url = fields.Method(
        "get_url",
        required=True,
        metadata={
            "type": "string",
            "description": "Link to the item's page; show it to the person.",
        },
    )
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)

    def get_url(self, todo: Todo) -> str:
        return preview_url(todo.share_token)

    @staticmethod
    def plain_dump(todo: Any, url_prefix: str | None = None) -> dict[str, Any]:
        """What ``dump`` writes for a Todo or a row of its columns (see ``operations.dump``)."""
        return {
            "id": todo.id,
            "title": todo.title,
            "notes": todo.notes,
            "done": todo.done,
            "due_date": todo.due_date.isoformat() if todo.due_date is not None else None,
            "url": (url_prefix or preview_url_prefix()) + todo.share_token,
            "created_at": utc_isoformat(todo.created_at),
            "updated_at": utc_isoformat(todo.updated_at),
        }


def preview_url(share_token: str) -> str:
    """The item's public link. Share tokens are URL-safe, so the prefix is built once a request."""
    return preview_url_prefix() + share_token


def preview_url_prefix() -> str:
    if "preview_url_prefix" not in g:
        placeholder = "-"  # any one URL-safe character, cut off again
        g.preview_url_prefix = external_url("todos_pages.preview", share_token=placeholder)[:-1]
    prefix: str = g.preview_url_prefix
    return prefix


class TodoPageSchema(Schema):
    items = fields.List(fields.Nested(TodoSchema), required=True)
    next_cursor = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Pass as cursor for the next page; null on the last page."},
    )

    @staticmethod
    def plain_dump(page: dict[str, Any]) -> dict[str, Any]:
        prefix = preview_url_prefix()
        return {
            "items": [TodoSchema.plain_dump(item, prefix) for item in page["items"]],
            "next_cursor": page["next_cursor"],
        }


class ListTodosQuery(Schema):
    q = Trimmed(
        validate=validate.Length(max=200),
        metadata={"description": "Words to find in the title or notes (any case)."},
    )
    done = fields.Boolean(
        metadata={"description": "true for finished items only, false for open items only."}
    )
    cursor = Cursor(metadata={"description": "next_cursor from the previous page."})
    limit = fields.Integer(
        load_default=20,
        validate=validate.Range(min=1, error="limit must be at least 1."),
        metadata={
            "description": f"Items per page, 20 by default; above {MAX_PAGE} counts as {MAX_PAGE}."
        },
    )

    @post_load
    def cap_limit(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data["limit"] = min(data["limit"], MAX_PAGE)
        return data


class CreateTodoBody(Schema):
    title = Trimmed(required=True, validate=TITLE, metadata={"description": "What to do."})
    notes = Text(load_default="", validate=NOTES, metadata={"description": "Details."})
    due_date = fields.Date(
        load_default=None, allow_none=True, metadata={"description": "When it is due (YYYY-MM-DD)."}
    )


class UpdateTodoBody(Schema):
    title = Trimmed(validate=TITLE, metadata={"description": "A new title."})
    notes = Text(validate=NOTES, metadata={"description": "New notes (replace the old)."})
    done = fields.Boolean(metadata={"description": "true when finished, false to reopen."})
    due_date = fields.Date(
        allow_none=True,
        metadata={"description": "A new due date (YYYY-MM-DD), or null to clear it."},
    )


class TodoCountsSchema(Schema):
    total = fields.Integer(required=True)
    open = fields.Integer(required=True)
    done = fields.Integer(required=True)


class MeSchema(Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    region = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "Country and subdivision ChatGPT reported, e.g. US-CA; null if unknown."
        },
    )
    todos = fields.Nested(TodoCountsSchema, required=True)

    @staticmethod
    def plain_dump(me: dict[str, Any]) -> dict[str, Any]:
        counts = me["todos"]
        return {
            "id": me["id"],
            "email": me["email"],
            "region": me["region"],
            "todos": {"total": counts["total"], "open": counts["open"], "done": counts["done"]},
        }
