"""Linked upstream identities: find, link, unlink, export; and the operator's policy.

Services flush; the request commits. An identity links to an account only through
``link_identity``, which the flow calls after the person proved they own the account
(signed in to it on the spot) or for an account it has just made from a verified address.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from plugin.accounts.hooks import Exporter
from plugin.accounts.lifecycle import iso, user_deleting
from plugin.accounts.models import Passkey, User
from plugin.accounts.services import AccountError
from plugin.accounts.upstream.client import Identity
from plugin.accounts.upstream.models import UpstreamIdentity
from plugin.accounts.upstream.providers import Provider
from plugin.audit.services import record
from plugin.clock import utcnow
from plugin.database_errors import is_unique_violation
from plugin.extensions import db

LAST_WAY_IN = (
    "This is the only way you sign in: set a password or add a passkey before unlinking it."
)
LINKED_ELSEWHERE = "This account at the provider already signs in to another account here."


def find_identity(provider: str, subject: str) -> UpstreamIdentity | None:
    return db.session.scalar(
        sa.select(UpstreamIdentity).where(
            UpstreamIdentity.provider == provider, UpstreamIdentity.subject == subject
        )
    )


def list_identities(user: User) -> list[UpstreamIdentity]:
    return list(
        db.session.scalars(
            sa.select(UpstreamIdentity)
            .where(UpstreamIdentity.user_id == user.id)
            .order_by(UpstreamIdentity.id)
        )
    )


def used(identity: UpstreamIdentity, email: str | None) -> None:
    """Note a sign-in with ``identity`` (and the address it now has, if verified)."""
    identity.last_used_at = utcnow()
    if email:
        identity.email = email[:254]
    db.session.flush()


def link_identity(user: User, identity: Identity, *, method: str) -> UpstreamIdentity:
    """Let ``identity`` sign in to ``user`` from now on; AccountError if it signs in to
    someone else's. ``method`` says how the owner proved the account is theirs."""
    existing = find_identity(identity.provider, identity.subject)
    if existing is not None:
        if existing.user_id != user.id:
            raise AccountError(LINKED_ELSEWHERE)
        return existing
    row = UpstreamIdentity(
        user_id=user.id,
        provider=identity.provider,
        subject=identity.subject,
        email=(identity.email or "")[:254],
        last_used_at=utcnow(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError as error:
        if is_unique_violation(error):
            raise AccountError(LINKED_ELSEWHERE) from None
        raise
    record(
        "user.upstream_linked",
        actor=user,
        subject=f"user:{user.id}",
        provider=identity.provider,
        proved_by=method,
    )
    return row


def unlink_identity(user: User, identity_id: int) -> UpstreamIdentity:
    """Remove one of ``user``'s identities, never the last way they have to sign in."""
    row = db.session.scalar(
        sa.select(UpstreamIdentity).where(
            UpstreamIdentity.id == identity_id, UpstreamIdentity.user_id == user.id
        )
    )
    if row is None:
        raise AccountError("This sign-in is not linked to your account.")
    others = len(list_identities(user)) - 1
    has_passkey = db.session.scalar(
        sa.select(Passkey.id).where(Passkey.user_id == user.id).limit(1)
    )
    if not (user.has_password or has_passkey or others):
        raise AccountError(LAST_WAY_IN)
    db.session.delete(row)
    db.session.flush()
    record("user.upstream_unlinked", actor=user, subject=f"user:{user.id}", provider=row.provider)
    return row


def export_identities(user: User) -> list[dict[str, Any]]:
    return [
        {
            "provider": row.provider,
            "subject": row.subject,
            "email": row.email,
            "created_at": iso(row.created_at),
            "last_used_at": iso(row.last_used_at),
        }
        for row in list_identities(user)
    ]


exporter: Exporter = export_identities


@user_deleting.connect
def _forget_identities(user: User) -> None:
    db.session.execute(sa.delete(UpstreamIdentity).where(UpstreamIdentity.user_id == user.id))


def refusal(provider: Provider, identity: Identity, *, linked: bool) -> str | None:
    """The cause (``unverified``, ``domain``, ``tenant``) for which policy refuses
    ``identity`` here, or None. An identity already ``linked`` signs in by its subject; the
    operator's domains and tenants hold for every sign-in."""
    verified = bool(identity.email and identity.email_verified)
    if not verified and (not linked or provider.allowed_domains):
        return "unverified"
    domain = (identity.email or "").rpartition("@")[2].lower()
    if provider.allowed_domains and domain not in provider.allowed_domains:
        return "domain"
    if provider.tenants and identity.tenant not in provider.tenants:
        return "tenant"
    return None
