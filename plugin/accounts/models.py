from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from plugin.clock import utcnow
from plugin.extensions import Model


class User(Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored normalised (trimmed, lower-case) so that A@x and a@x are one account.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    # None for an account that signs in only with passkeys (signed up with one).
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    is_admin: Mapped[bool] = mapped_column(default=False)
    is_disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the person last proved they read this address (a link sent to it was opened).
    email_verified_at: Mapped[datetime | None]

    @property
    def is_active(self) -> bool:
        return not self.is_disabled

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class UserSession(Model):
    """A signed-in browser; the cookie holds only a random id whose digest is stored here."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    sid_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    user_agent: Mapped[str | None] = mapped_column(sa.String(255))
    # password | passkey: the admin area can insist on a passkey (Admin → Settings), and an
    # account without a password re-authenticates by a recent passkey sign-in (``created_at``
    # is when this session signed in: every sign-in makes a new row).
    signed_in_with: Mapped[str] = mapped_column(
        sa.String(16), default="password", server_default="password"
    )


class OneTimeLink:
    """What every one-time link keeps (``plugin.accounts.links`` finds and spends them): its
    account, a digest of its token, when it expires and was used, and where the person was
    going (an install waiting behind the login), to resume after."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    return_to: Mapped[str | None] = mapped_column(sa.String(2048))


class PasswordReset(OneTimeLink, Model):
    """A one-time link to set a new password: handed over by an admin, or e-mailed to a
    person who forgot theirs. Using one spends every other of that account."""

    __tablename__ = "password_resets"


class EmailToken(OneTimeLink, Model):
    """A one-time link e-mailed to an address: verify it, or make it the account's new one."""

    __tablename__ = "email_tokens"

    # verify | change
    purpose: Mapped[str] = mapped_column(sa.String(16))
    email: Mapped[str] = mapped_column(sa.String(254))


class Passkey(Model):
    """A WebAuthn credential a person signs in with instead of their password."""

    __tablename__ = "passkeys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # base64url, as the browser names it; at most 1023 bytes before encoding (WebAuthn §5.1).
    credential_id: Mapped[str] = mapped_column(sa.String(1400), unique=True)
    # COSE-encoded; only verifies signatures, so a copy of the database opens nothing.
    public_key: Mapped[bytes] = mapped_column(sa.LargeBinary)
    sign_count: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    # The authenticator's own words ("internal hybrid"), handed back to the browser as hints.
    transports: Mapped[str | None] = mapped_column(sa.String(255))
    # The account's WebAuthn user handle: random, the same for each passkey of the account.
    user_handle: Mapped[bytes] = mapped_column(sa.LargeBinary)
    name: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]


class PasskeyChallenge(Model):
    """A challenge handed to a browser for one passkey ceremony; spent by its first answer.

    The browser's session cookie carries the challenge; this row (its digest) is what makes
    it single-use and short-lived across every worker, whatever copy of the cookie is sent.
    """

    __tablename__ = "passkey_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # register | login | signup
    purpose: Mapped[str] = mapped_column(sa.String(16))
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    expires_at: Mapped[datetime] = mapped_column(index=True)
