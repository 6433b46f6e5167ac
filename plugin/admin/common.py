"""What every admin page shares: the blueprint, 303 answers, no-store pages, paging."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from flask import Blueprint, Response, redirect
from werkzeug.wrappers import Response as BaseResponse

from plugin.inputs import MAX_ID

bp = Blueprint("admin", __name__, url_prefix="/admin")

T = TypeVar("T")


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
