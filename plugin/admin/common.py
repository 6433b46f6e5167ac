"""What every admin page shares: the blueprint, 303 answers, no-store pages, paging, filters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import Blueprint, Response, redirect, request
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse

from plugin.inputs import MAX_ID

bp = Blueprint("admin", __name__, url_prefix="/admin")

T = TypeVar("T")

R = TypeVar("R")


def see_other(target: str) -> BaseResponse:
    # 303 makes the browser follow with GET, so a reload never repeats the action.
    return redirect(target, code=303)


def no_store(response: Response) -> Response:
    """Mark a page that shows a secret once as never to be cached or kept by the browser."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def query_int(value: str | None, default: int | None = None) -> int | None:
    """A positive integer from the query string, else ``default``.

    Larger numbers than an id can be (?page=, ?before=) are nonsense; the database may not
    even accept them as integers.
    """
    try:
        number = int(value or "")
    except ValueError:
        return default
    return number if 0 < number <= MAX_ID else default


@dataclass
class Page(Generic[T]):
    items: list[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


@dataclass
class NewestFirst(Generic[R]):
    """One page of a list read newest first, and where the next older page starts.

    Pages are keyed by id (``?before=ID``) rather than numbered, so a page stays the same
    while new rows arrive at the top.
    """

    items: list[R]
    before: int | None = None
    next_before: int | None = None


def newest_first(fetch: Callable[[int | None, int], list[R]], per_page: int) -> NewestFirst[R]:
    """The page ``?before=`` asks for; ``fetch(before_id, limit)`` reads rows newest first."""
    before = query_int(request.args.get("before"))
    rows = fetch(before, per_page + 1)
    # One row more than a page tells whether an older page exists.
    next_before = _row_id(rows[per_page - 1]) if len(rows) > per_page else None
    return NewestFirst(rows[:per_page], before, next_before)


def active_filters(form: FlaskForm) -> dict[str, str]:
    """The query-string filters of ``form`` that are set, to carry into the page links."""
    return {key: value for key, value in request.args.items() if key in form.data and value.strip()}


def _row_id(row: Any) -> int:
    # Every list paged here is of models whose integer primary key is ``id``. A protocol bound
    # on R would say so, but mypy cannot match the models to it while it checks the admin
    # package and the models together.
    return int(row.id)
