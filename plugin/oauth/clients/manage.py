"""Registering and managing OAuth clients: the one service the admin pages, the CLI and
dynamic registration share.

Functions flush; the request or command that called them commits.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from plugin.accounts.models import User
from plugin.audit.services import record
from plugin.clock import utcnow
from plugin.database import rows_affected
from plugin.digests import digest, new_secret
from plugin.extensions import db
from plugin.hosts import is_loopback
from plugin.oauth.models import AuthorizationCode, Consent, OAuthClient, OAuthToken
from plugin.oauth.scopes import ordered, scopes
from plugin.oauth.services import live_token, revoke_tokens
from plugin.text import escape_controls, format_character_problem, text_problem

MAX_REDIRECT_URIS = 10


class ClientError(ValueError):
    """A refused client operation; the message is safe to show to an operator."""


def validate_redirect_uri(uri: str) -> str:
    """Return ``uri`` if it may be registered, else raise ClientError saying why."""
    uri = (uri or "").strip()
    if not uri:
        raise ClientError("A redirect URI is required.")
    if len(uri) > 2000 or any(ch.isspace() or ord(ch) < 32 for ch in uri):
        raise ClientError(f"Redirect URI {uri!r} is not a valid URL.")
    problem = format_character_problem(uri)
    if problem:
        # Shown on the consent page as where the person goes back to (OA-32).
        raise ClientError(f"Redirect URI {escape_controls(uri)}: {problem}")
    try:
        parts = urlsplit(uri)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ClientError(f"Redirect URI {uri!r} is not a valid URL.") from None
    if parts.scheme not in ("https", "http") or not host:
        raise ClientError(f"Redirect URI {uri!r} must be an absolute https:// URL.")
    if parts.scheme == "http" and not is_loopback(host):
        raise ClientError(
            f"Redirect URI {uri!r} must use https (plain http is allowed only for "
            "localhost/127.0.0.1 during development)."
        )
    if "#" in uri:
        raise ClientError(f"Redirect URI {uri!r} must not contain a fragment (#...).")
    if parts.username or parts.password:
        raise ClientError(f"Redirect URI {uri!r} must not contain a user name or password.")
    return uri


def _clean_redirect_uris(redirect_uris: list[str]) -> list[str]:
    cleaned: list[str] = []
    for uri in redirect_uris:
        if not (uri or "").strip():
            continue
        value = validate_redirect_uri(uri)
        if value not in cleaned:
            cleaned.append(value)
    if not cleaned:
        raise ClientError("At least one redirect URI is required.")
    if len(cleaned) > MAX_REDIRECT_URIS:
        raise ClientError(f"At most {MAX_REDIRECT_URIS} redirect URIs can be registered.")
    return cleaned


def _clean_scope(scope: str | None) -> str:
    registered = scopes()
    # No scope named means every scope the app offers.
    names = (scope if scope is not None else " ".join(registered)).split()
    unknown = [name for name in names if name not in registered]
    if unknown:
        known = ", ".join(registered) or "none registered"
        raise ClientError(f"Unknown scope {unknown[0]!r} (known scopes: {known}).")
    if not names:
        raise ClientError("Choose at least one scope.")
    return ordered(names)


def clean_client_name(name: str) -> str:
    """The name every kind of client is registered under (admin, CLI, dynamic registration,
    metadata documents), or ClientError: the consent page, the admin pages and the CLI all
    show it, so it is one line without control or invisible formatting characters."""
    name = (name or "").strip()
    if not name:
        raise ClientError("A client name is required.")
    if len(name) > 100:
        raise ClientError("The client name must be at most 100 characters.")
    if text_problem(name):
        raise ClientError("The client name must be one line without control characters.")
    problem = format_character_problem(name)
    if problem:
        raise ClientError(f"The client name cannot be used: {problem}")
    return name


def new_client_id() -> str:
    """A random client id (144 bits) that never begins with ``-`` or ``_``, so that it passes
    as a command-line argument (``clients show ID``) and reads well."""
    while True:
        value = secrets.token_urlsafe(18)
        if value[0].isalnum():
            return value


def create_client(
    name: str,
    redirect_uris: list[str],
    scope: str | None = None,
    *,
    public: bool = False,
    actor: User | None = None,
) -> tuple[OAuthClient, str | None]:
    """Register a client; return it with its secret, which is never shown again."""
    client = OAuthClient(
        client_id=new_client_id(),
        name=clean_client_name(name),
        redirect_uris=_clean_redirect_uris(redirect_uris),
        scope=_clean_scope(scope),
        token_endpoint_auth_method="none" if public else "client_secret_basic",
        created_by_id=actor.id if actor else None,
    )
    secret = None if public else new_secret()
    client.client_secret_hash = digest(secret) if secret else None
    db.session.add(client)
    db.session.flush()
    record("client.created", actor=actor, subject=f"client:{client.client_id}", name=client.name)
    return client, secret


def update_client(
    client: OAuthClient,
    *,
    name: str | None = None,
    redirect_uris: list[str] | None = None,
    scope: str | None = None,
    actor: User | None = None,
) -> None:
    changed = []
    if name is not None and clean_client_name(name) != client.name:
        client.name = clean_client_name(name)
        changed.append("name")
    if redirect_uris is not None:
        cleaned = _clean_redirect_uris(redirect_uris)
        if cleaned != client.redirect_uris:
            client.redirect_uris = cleaned
            changed.append("redirect_uris")
    if scope is not None and _clean_scope(scope) != client.scope:
        client.scope = _clean_scope(scope)
        changed.append("scope")
        narrow_grants(client, actor=actor)
    if changed:
        record("client.updated", actor=actor, subject=f"client:{client.client_id}", fields=changed)
        db.session.flush()


def narrow_grants(client: OAuthClient, *, actor: User | None = None) -> int:
    """Cut every live token and consent of ``client`` down to its current scopes.

    A token is never wider than its client: narrowing a client narrows what it already holds
    (and, since refresh keeps a token's scope, every token refreshed from it). A token left
    with no scope at all is revoked. Returns how many tokens changed.
    """
    allowed = set(client.scopes)
    changed = 0
    held = db.session.scalars(
        sa.select(OAuthToken.scope)
        .where(OAuthToken.client_id == client.id, live_token())
        .distinct()
    )
    for scope in list(held):
        kept = ordered(set(scope.split()) & allowed)
        if kept == scope:
            continue
        values: dict[str, Any] = {"scope": kept} if kept else {"revoked_at": utcnow()}
        changed += rows_affected(
            sa.update(OAuthToken)
            .where(OAuthToken.client_id == client.id, OAuthToken.scope == scope, live_token())
            .values(**values),
            synchronize=False,
        )
    for consent in db.session.scalars(sa.select(Consent).where(Consent.client_id == client.id)):
        consent.scope = ordered(set(consent.scope.split()) & allowed)
    if changed:
        record(
            "token.narrowed",
            actor=actor,
            subject=f"client:{client.client_id}",
            scope=client.scope,
            tokens=changed,
        )
    return changed


def rotate_client_secret(client: OAuthClient, *, actor: User | None = None) -> str:
    """Give the client a new secret; the old one stops working with this commit."""
    if client.is_public:
        raise ClientError("A public client has no secret to rotate.")
    secret = new_secret()
    client.client_secret_hash = digest(secret)
    client.secret_rotated_at = utcnow()
    record("client.secret_rotated", actor=actor, subject=f"client:{client.client_id}")
    db.session.flush()
    return secret


def set_client_disabled(client: OAuthClient, disabled: bool, *, actor: User | None = None) -> None:
    """Disable (its tokens stop working at once) or re-enable a client."""
    if client.is_disabled == disabled:
        return
    client.is_disabled = disabled
    record(
        "client.disabled" if disabled else "client.enabled",
        actor=actor,
        subject=f"client:{client.client_id}",
    )
    db.session.flush()


def delete_client(client: OAuthClient, *, actor: User | None = None) -> None:
    """Delete a client with every token, code and consent it holds."""
    revoked = revoke_tokens(client_id=client.id, reason="client deleted")
    record(
        "client.deleted",
        actor=actor,
        subject=f"client:{client.client_id}",
        name=client.name,
        tokens_revoked=revoked,
    )
    for model in (OAuthToken, AuthorizationCode, Consent):
        db.session.execute(sa.delete(model).where(model.client_id == client.id))
    db.session.delete(client)
    db.session.flush()


def find_client(ref: str | int) -> OAuthClient | None:
    """Find a client by its public client_id, or by its numeric row id."""
    ref = str(ref).strip()
    client = db.session.scalar(sa.select(OAuthClient).where(OAuthClient.client_id == ref))
    if client is None and ref.isdigit() and len(ref) < 10:
        client = db.session.get(OAuthClient, int(ref))
    return client


def list_clients() -> list[OAuthClient]:
    return list(db.session.scalars(sa.select(OAuthClient).order_by(OAuthClient.created_at)))


def client_as_dict(client: OAuthClient, **extra: Any) -> dict[str, Any]:
    """The operator-facing description of a client (never its secret hash)."""
    return {
        "client_id": client.client_id,
        "name": client.name,
        "kind": client.kind,
        "redirect_uris": list(client.redirect_uris),
        "scope": client.scope,
        "public": client.is_public,
        "disabled": client.is_disabled,
        "created_at": client.created_at.isoformat() + "Z",
        "last_used_at": client.last_used_at.isoformat() + "Z" if client.last_used_at else None,
        **extra,
    }
