"""Finding a presented token by its digest, and whether it still works.

The resource guard, the refresh grant, revocation and introspection all look tokens up
here, so the rule for "active" is written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from plugin.clock import utcnow
from plugin.digests import digest
from plugin.extensions import db
from plugin.oauth.models import OAuthClient, OAuthToken

TokenKind = Literal["access_token", "refresh_token"]
# Longer values are never issued; refusing them early keeps hashing garbage cheap.
MAX_TOKEN_LENGTH = 512


def _by_digest(column: sa.orm.InstrumentedAttribute[str | None]) -> sa.Select[OAuthToken]:
    # Built once per kind: every API call runs one, and composing it costs as much as running it.
    return (
        sa.select(OAuthToken)
        .options(joinedload(OAuthToken.user), joinedload(OAuthToken.client))
        .where(column == sa.bindparam("digest"))
    )


TOKEN_QUERIES: dict[TokenKind, sa.Select[OAuthToken]] = {
    "access_token": _by_digest(OAuthToken.access_token_hash),
    "refresh_token": _by_digest(OAuthToken.refresh_token_hash),
}


def find_token_row(value: str, kind: TokenKind) -> OAuthToken | None:
    """The stored pair whose ``kind`` value is ``value``, with its user and client loaded."""
    if not value or len(value) > MAX_TOKEN_LENGTH:
        return None
    return db.session.scalar(TOKEN_QUERIES[kind], {"digest": digest(value)})


def is_access_token_active(token: OAuthToken) -> bool:
    """An access token works while unexpired, unrevoked, and its user and client are enabled."""
    return (
        token.revoked_at is None
        and token.access_expires_at > utcnow()
        and not token.user.is_disabled
        and not token.client.is_disabled
    )


def is_refresh_token_active(token: OAuthToken) -> bool:
    """A refresh token works until used once, revoked or expired, while user and client are
    enabled."""
    return (
        token.revoked_at is None
        and token.refreshed_at is None
        and token.refresh_expires_at is not None
        and token.refresh_expires_at > utcnow()
        and not token.user.is_disabled
        and not token.client.is_disabled
    )


@dataclass
class FoundToken:
    """A stored token row and which of its two values was presented."""

    row: OAuthToken
    kind: TokenKind

    def check_client(self, client: OAuthClient) -> bool:
        return self.row.client_id == client.id

    def is_active(self) -> bool:
        if self.kind == "access_token":
            return is_access_token_active(self.row)
        return is_refresh_token_active(self.row)


def find_token(value: str, hint: str | None = None) -> FoundToken | None:
    """Look a presented token of either kind up, trying the hinted kind first."""
    kinds: list[TokenKind] = ["access_token", "refresh_token"]
    if hint == "refresh_token":
        kinds.reverse()
    for kind in kinds:
        row = find_token_row(value, kind)
        if row is not None:
            return FoundToken(row, kind)
    return None
