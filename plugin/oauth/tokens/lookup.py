"""Finding a presented token by its digest, and whether it still works.

The resource guard, the refresh grant, revocation and introspection all look tokens up
here, so the rule for "active" is written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from plugin.accounts.models import User
from plugin.clock import utcnow
from plugin.digests import digest
from plugin.extensions import db
from plugin.oauth.models import AccessTokenRules, OAuthClient, OAuthToken

TokenKind = Literal["access_token", "refresh_token"]
# Longer values are never issued; refusing them early keeps hashing garbage cheap.
MAX_TOKEN_LENGTH = 512


def _by_digest(column: sa.orm.InstrumentedAttribute[str | None]) -> sa.Select[OAuthToken]:
    # Built once per kind: every API call runs one, and composing it costs as much as running it.
    # The client is not joined: every caller has just authenticated one, usually the token's
    # own, which the session then already holds (another is loaded on first use).
    return (
        sa.select(OAuthToken)
        .options(joinedload(OAuthToken.user))
        .where(column == sa.bindparam("digest"))
    )


TOKEN_QUERIES: dict[TokenKind, sa.Select[OAuthToken]] = {
    "access_token": _by_digest(OAuthToken.access_token_hash),
    "refresh_token": _by_digest(OAuthToken.refresh_token_hash),
}


def find_token_row(value: str, kind: TokenKind) -> OAuthToken | None:
    """The stored pair whose ``kind`` value is ``value``, with its user loaded."""
    if not value or len(value) > MAX_TOKEN_LENGTH:
        return None
    return db.session.scalar(TOKEN_QUERIES[kind], {"digest": digest(value)})


def access_works(
    revoked_at: datetime | None,
    expires_at: datetime,
    *,
    user_disabled: bool,
    client_disabled: bool,
) -> bool:
    """The one rule for an access token: unexpired, unrevoked, its user and client enabled."""
    return (
        revoked_at is None and expires_at > utcnow() and not user_disabled and not client_disabled
    )


def is_access_token_active(token: OAuthToken) -> bool:
    """Whether a stored token's access value still works."""
    return access_works(
        token.revoked_at,
        token.access_expires_at,
        user_disabled=token.user.is_disabled,
        client_disabled=token.client.is_disabled,
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


_tokens, _users, _clients = OAuthToken.__table__, User.__table__, OAuthClient.__table__
# What a resource needs to decide on a bearer token, in one Core statement: no ORM entities
# are built for the token, its user and its client on every API call (measured: the ORM
# version was about a fifth of getMe's CPU time). Built once, like TOKEN_QUERIES.
ACCESS_TOKEN_QUERY = (
    sa.select(
        _tokens.c.id,
        _tokens.c.user_id,
        _tokens.c.client_id,
        _tokens.c.scope,
        _tokens.c.resource,
        _tokens.c.issued_at,
        _tokens.c.access_expires_at,
        _tokens.c.revoked_at,
        _tokens.c.family_id,
        _users.c.is_disabled.label("user_disabled"),
        _clients.c.is_disabled.label("client_disabled"),
    )
    .join(_users, _users.c.id == _tokens.c.user_id)
    .join(_clients, _clients.c.id == _tokens.c.client_id)
    .where(_tokens.c.access_token_hash == sa.bindparam("digest"))
)


class PresentedToken(AccessTokenRules):
    """A bearer token presented at a resource: the columns of its row that decide on it.

    ``user`` and ``client`` are loaded by id when a view asks for them (most never do).
    """

    def __init__(self, row: sa.Row[*tuple[Any, ...]]) -> None:
        self.id: int = row.id
        self.user_id: int = row.user_id
        self.client_row_id: int = row.client_id
        self.scope: str = row.scope
        self.resource: str | None = row.resource
        self.issued_at: datetime = row.issued_at
        self.access_expires_at: datetime = row.access_expires_at
        self.revoked_at: datetime | None = row.revoked_at
        self.family_id: str = row.family_id
        self.user_disabled: bool = bool(row.user_disabled)
        self.client_disabled: bool = bool(row.client_disabled)

    @property
    def user(self) -> User:
        user = db.session.get(User, self.user_id)
        assert user is not None  # the row's foreign key cascades on delete
        return user

    @property
    def client(self) -> OAuthClient:
        client = db.session.get(OAuthClient, self.client_row_id)
        assert client is not None
        return client

    def is_active(self) -> bool:
        """``access_works`` on the columns read with the token."""
        return access_works(
            self.revoked_at,
            self.access_expires_at,
            user_disabled=self.user_disabled,
            client_disabled=self.client_disabled,
        )

    def check_client(self, client: OAuthClient) -> bool:
        return self.client_row_id == client.id


def find_access_token(value: str) -> PresentedToken | None:
    """The access token ``value`` as a resource sees it, or None if no row has it."""
    if not value or len(value) > MAX_TOKEN_LENGTH:
        return None
    row = db.session.execute(ACCESS_TOKEN_QUERY, {"digest": digest(value)}).first()
    return PresentedToken(row) if row is not None else None


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
