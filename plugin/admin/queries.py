"""Read-only lookups the admin pages need and no other feature does (lists and counts)."""

from __future__ import annotations

import sqlalchemy as sa

from plugin.accounts.models import User
from plugin.admin.common import Page
from plugin.clock import utcnow
from plugin.extensions import db
from plugin.oauth.models import OAuthToken


def search_users(text: str = "", *, page: int = 1, per_page: int = 25) -> Page[User]:
    """Users whose email contains ``text``, oldest account first, one page of them."""
    condition = sa.true()
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


def count_active_tokens() -> int:
    """Unrevoked tokens whose access or refresh token still works."""
    now = utcnow()
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OAuthToken)
            .where(
                OAuthToken.revoked_at.is_(None),
                sa.or_(OAuthToken.access_expires_at > now, OAuthToken.refresh_expires_at > now),
            )
        )
        or 0
    )
