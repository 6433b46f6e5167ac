"""Read-only lookups the admin pages need and no other feature does (lists and counts)."""

from __future__ import annotations

import sqlalchemy as sa

from plugin.accounts.models import User
from plugin.admin.common import Page
from plugin.extensions import db


def search_users(text: str = "", *, page: int = 1, per_page: int = 25) -> Page[User]:
    """Users whose email contains ``text``, oldest account first, one page of them."""
    condition: sa.ColumnElement[bool] = sa.true()
    text = (text or "").strip().lower()
    if text:
        condition = User.email.contains(text, autoescape=True)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(User).where(condition)) or 0
    page = max(1, page)
    rows = db.session.scalars(
        sa.select(User)
        .where(condition)
        .order_by(User.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return Page(list(rows), page, per_page, total)


def count_users() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User)) or 0
