"""Grants and consents: live tokens and their revocation, the consents people give, and
what the OAuth feature does when an account is disabled, changes its password or is deleted.

Functions flush; the request or command that called them commits.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from plugin.accounts.lifecycle import user_deleting
from plugin.accounts.models import User
from plugin.accounts.services import password_changed, user_disabled
from plugin.audit.services import record
from plugin.clock import utcnow
from plugin.connections.services import forget_person as forget_traced_person
from plugin.database import rows_affected
from plugin.extensions import db
from plugin.oauth.models import AuthorizationCode, Consent, OAuthClient, OAuthToken
from plugin.oauth.scopes import ordered


def live_token() -> sa.ColumnElement[bool]:
    """Unrevoked, with the access or the refresh token still unexpired."""
    now = utcnow()
    return sa.and_(
        OAuthToken.revoked_at.is_(None),
        sa.or_(OAuthToken.refresh_expires_at > now, OAuthToken.access_expires_at > now),
    )


def active_grant_counts() -> dict[int, int]:
    """Per client row id: how many people currently hold a live token."""
    rows = db.session.execute(
        sa.select(OAuthToken.client_id, sa.func.count(sa.distinct(OAuthToken.user_id)))
        .where(live_token())
        .group_by(OAuthToken.client_id)
    )
    return {client_id: count for client_id, count in rows}


def count_active_tokens() -> int:
    return (
        db.session.scalar(sa.select(sa.func.count()).select_from(OAuthToken).where(live_token()))
        or 0
    )


def revoke_tokens(
    *,
    user_id: int | None = None,
    client_id: int | None = None,
    family_id: str | None = None,
    authorization_code_id: int | None = None,
    reason: str,
) -> int:
    """Revoke every live token matching all the given filters; return how many."""
    conditions: list[sa.ColumnElement[bool]] = [OAuthToken.revoked_at.is_(None)]
    if user_id is not None:
        conditions.append(OAuthToken.user_id == user_id)
    if client_id is not None:
        conditions.append(OAuthToken.client_id == client_id)
    if family_id is not None:
        conditions.append(OAuthToken.family_id == family_id)
    if authorization_code_id is not None:
        conditions.append(OAuthToken.authorization_code_id == authorization_code_id)
    if len(conditions) == 1:
        raise ValueError("revoke_tokens needs at least one filter")
    count = rows_affected(
        sa.update(OAuthToken).where(*conditions).values(revoked_at=utcnow()), synchronize=False
    )
    if count:
        record("token.revoked", subject=_subject(user_id, client_id), count=count, reason=reason)
    return count


def _subject(user_id: int | None, client_id: int | None) -> str | None:
    if user_id is not None:
        return f"user:{user_id}"
    if client_id is not None:
        return f"client-row:{client_id}"
    return None


def find_consent(user: User, client: OAuthClient) -> Consent | None:
    return db.session.scalar(
        sa.select(Consent).where(Consent.user_id == user.id, Consent.client_id == client.id)
    )


def consent_covers(user: User, client: OAuthClient, scope: str) -> bool:
    consent = find_consent(user, client)
    return consent is not None and set(scope.split()) <= set(consent.scope.split())


def give_consent(user: User, client: OAuthClient, scope: str) -> None:
    """Remember that ``user`` allowed ``client`` these scopes (added to earlier ones)."""
    consent = find_consent(user, client)
    if consent is None:
        consent = Consent(user_id=user.id, client_id=client.id, scope="")
        db.session.add(consent)
    granted = set(consent.scope.split()) | set(scope.split())
    consent.scope = ordered(granted)
    record("consent.given", actor=user, subject=f"client:{client.client_id}", scope=scope)
    db.session.flush()


def connected_apps(user: User) -> list[Consent]:
    return list(
        db.session.scalars(
            sa.select(Consent)
            .join(OAuthClient, OAuthClient.id == Consent.client_id)
            .where(Consent.user_id == user.id)
            .order_by(OAuthClient.name)
        )
    )


def revoke_consent(user: User, client: OAuthClient, *, actor: User | None = None) -> int:
    """Forget the person's consent for a client and revoke every token it holds for them."""
    db.session.execute(
        sa.delete(Consent).where(Consent.user_id == user.id, Consent.client_id == client.id)
    )
    revoked = revoke_tokens(user_id=user.id, client_id=client.id, reason="access revoked")
    record(
        "consent.revoked",
        actor=actor or user,
        subject=f"client:{client.client_id}",
        user=user.email,
        tokens_revoked=revoked,
    )
    db.session.flush()
    return revoked


@user_disabled.connect
def _revoke_tokens_of_disabled_user(user: User, **_: Any) -> None:
    revoke_tokens(user_id=user.id, reason="user disabled")


@password_changed.connect
def _revoke_tokens_after_password_change(user: User, **_: Any) -> None:
    # Whoever knew the old password may have connected an app with it.
    revoke_tokens(user_id=user.id, reason="password changed")


@user_deleting.connect
def _forget_deleted_user(user: User, **_: Any) -> None:
    revoke_tokens(user_id=user.id, reason="account deleted")
    for model in (OAuthToken, AuthorizationCode, Consent):
        db.session.execute(sa.delete(model).where(model.user_id == user.id))
    forget_traced_person(user.id, user.email)


def export_connected_apps(user: User) -> list[dict[str, Any]]:
    return [
        {
            "app": consent.client.name,
            "scope": consent.scope.split(),
            "since": consent.created_at.isoformat(timespec="seconds") + "Z",
        }
        for consent in connected_apps(user)
    ]
