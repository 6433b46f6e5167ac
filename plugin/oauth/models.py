from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa
from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from plugin.accounts.models import User
from plugin.clock import utcnow
from plugin.digests import digest
from plugin.extensions import Model

LOOPBACK_HOSTS = ("127.0.0.1", "[::1]", "localhost")


def _without_loopback_port(uri: str) -> str | None:
    """``uri`` without its port if it is an http loopback URI, else None."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return None
    host = parts.netloc.rsplit(":", 1)[0] if not parts.netloc.endswith("]") else parts.netloc
    if parts.scheme != "http" or host not in LOOPBACK_HOSTS or "@" in parts.netloc:
        return None
    return urlunsplit(("http", host, parts.path, parts.query, parts.fragment))


# How a client came to exist: made by an operator, registered itself (RFC 7591), or is
# described by a Client ID Metadata Document at its https client_id.
CLIENT_KINDS = ("registered", "dynamic", "metadata-document")
# A metadata document's URL is its client_id; longer ones are refused.
MAX_CLIENT_ID_LENGTH = 255


class OAuthClient(Model, ClientMixin):
    """A client; its secret (if any) is kept only as a SHA-256 digest."""

    __tablename__ = "oauth_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(sa.String(MAX_CLIENT_ID_LENGTH), unique=True)
    client_secret_hash: Mapped[str | None] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(100))
    redirect_uris: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    scope: Mapped[str] = mapped_column(sa.String(255), default="")
    # "client_secret_basic" for confidential clients (post is accepted too), "none" for public.
    token_endpoint_auth_method: Mapped[str] = mapped_column(
        sa.String(32), default="client_secret_basic"
    )
    is_disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    secret_rotated_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(sa.String(20), default="registered", index=True)
    # Dynamic registrations: the digest of what was asked for, so a repeat finds its twin.
    registration_digest: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    # Metadata documents: the last good copy, when it was fetched and until when it is fresh.
    metadata_document: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    metadata_fetched_at: Mapped[datetime | None]
    metadata_fresh_until: Mapped[datetime | None]

    @property
    def is_registered_by_hand(self) -> bool:
        return self.kind == "registered"

    @property
    def is_public(self) -> bool:
        return self.token_endpoint_auth_method == "none"  # noqa: S105 - a method name, not a secret

    @property
    def scopes(self) -> list[str]:
        return self.scope.split()

    # Authlib's ClientMixin interface.
    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        # With several registered URIs the request must name one; never guess.
        return self.redirect_uris[0] if len(self.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str:
        """The requested scopes this client may have; no scope asked means all of them."""
        if not scope:
            return self.scope
        allowed = set(self.scopes)
        return " ".join(name for name in scope.split() if name in allowed)

    def check_redirect_uri(self, redirect_uri: str | None) -> bool:
        # Exact string comparison: no prefix, case or trailing-slash leniency.
        if redirect_uri in self.redirect_uris:
            return True
        # RFC 8252 §7.3: a desktop app listens on whatever loopback port is free, so for
        # clients that registered themselves a loopback URI matches on any port.
        if redirect_uri is None or self.is_registered_by_hand:
            return False
        wanted = _without_loopback_port(redirect_uri)
        return wanted is not None and any(
            _without_loopback_port(uri) == wanted for uri in self.redirect_uris
        )

    def check_client_secret(self, client_secret: str | None) -> bool:
        if not client_secret or not self.client_secret_hash:
            return False
        return hmac.compare_digest(digest(client_secret), self.client_secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        # ChatGPT lets the operator choose body or Basic credentials, so both always work.
        if self.is_public:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str | None) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


class AuthorizationCode(Model, AuthorizationCodeMixin):
    __tablename__ = "oauth_authorization_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    client_id: Mapped[int] = mapped_column(
        sa.ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    redirect_uri: Mapped[str] = mapped_column(sa.Text)
    scope: Mapped[str] = mapped_column(sa.String(255), default="")
    code_challenge: Mapped[str | None] = mapped_column(sa.String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(sa.String(10))
    # RFC 8707: the resource the tokens of this code are for; None means the API (/api).
    resource: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    # Set by one conditional UPDATE; a second exchange finds it set and fails.
    used_at: Mapped[datetime | None]

    client: Mapped[OAuthClient] = relationship()
    user: Mapped[User] = relationship()

    # Authlib's AuthorizationCodeMixin interface.
    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> None:
        return None

    def get_auth_time(self) -> None:
        return None

    def get_code_challenge(self) -> str | None:
        return self.code_challenge

    def get_code_challenge_method(self) -> str | None:
        return self.code_challenge_method


class AccessTokenRules(TokenMixin):
    """Authlib's TokenMixin answered from the columns every access token has, for the stored
    row and for the copy a resource reads (``lookup.PresentedToken``) alike."""

    scope: str
    issued_at: datetime
    access_expires_at: datetime
    revoked_at: datetime | None

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return max(0, int((self.access_expires_at - self.issued_at).total_seconds()))

    def is_expired(self) -> bool:
        return self.access_expires_at <= utcnow()

    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class OAuthToken(Model, AccessTokenRules):
    """An access/refresh pair; tokens are stored only as SHA-256 digests."""

    __tablename__ = "oauth_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(
        sa.ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    access_token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    refresh_token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    scope: Mapped[str] = mapped_column(sa.String(255), default="")
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    access_expires_at: Mapped[datetime]
    refresh_expires_at: Mapped[datetime | None]
    # Every token refreshed from one authorization shares a family; reuse revokes the family.
    family_id: Mapped[str] = mapped_column(sa.String(32), index=True)
    authorization_code_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("oauth_authorization_codes.id", ondelete="SET NULL"), index=True
    )
    refreshed_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # RFC 8707 audience: the resource this token works at; None means the API (/api).
    resource: Mapped[str | None] = mapped_column(sa.String(255))
    # After rotation of a public client's refresh token: the pair that replaced it, encrypted
    # with a key only the old refresh token's value yields, so a retry gets the same answer.
    retry_answer: Mapped[str | None] = mapped_column(sa.Text)

    client: Mapped[OAuthClient] = relationship()
    user: Mapped[User] = relationship()

    def check_client(self, client: OAuthClient) -> bool:
        return self.client_id == client.id


class Consent(Model):
    """What a person has allowed a client, so that a re-install does not ask again."""

    __tablename__ = "oauth_consents"
    __table_args__ = (sa.UniqueConstraint("user_id", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[int] = mapped_column(
        sa.ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True
    )
    scope: Mapped[str] = mapped_column(sa.String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    client: Mapped[OAuthClient] = relationship()
