"""Find and spend one-time links (password resets, e-mail links) by their token."""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa

from plugin.accounts.models import OneTimeLink
from plugin.clock import utcnow
from plugin.database import rows_affected
from plugin.digests import digest
from plugin.extensions import db

Link = TypeVar("Link", bound=OneTimeLink)


def find_link(model: type[Link], token: str, *where: Any) -> Link | None:
    """The unused, unexpired link of ``model`` for ``token`` (and ``where``), or None."""
    link = db.session.scalar(sa.select(model).where(model.token_hash == digest(token), *where))
    if link is None or link.used_at is not None or link.expires_at < utcnow():
        return None
    return link


def spend_link(model: type[Link], link: Link) -> bool:
    """Mark ``link`` used; False if it already was. Conditional, so that two clicks on one
    link cannot both succeed."""
    return (
        rows_affected(
            sa.update(model)
            .where(model.id == link.id, model.used_at.is_(None))
            .values(used_at=utcnow())
        )
        == 1
    )


def spend_links(model: type[Link], user_id: int, *where: Any) -> None:
    """Mark every unused link of ``model`` of the account (and ``where``) used."""
    db.session.execute(
        sa.update(model)
        .where(model.user_id == user_id, model.used_at.is_(None), *where)
        .values(used_at=utcnow())
    )
