"""RFC 7591 Dynamic Client Registration: MCP clients without a metadata document register here.

Only public clients (no secret, PKCE required) are registered. Claude registers anew on every
fresh connection, so an identical request returns the client registered before instead of a
new one, and registrations that never got a token are pruned (``flask clients prune``), with
the metadata-document clients nobody uses.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from plugin.audit.services import record
from plugin.clock import utcnow
from plugin.digests import digest
from plugin.extensions import db
from plugin.hosts import ascii_host
from plugin.oauth.clients.known_apps import impersonation_problem
from plugin.oauth.clients.manage import (
    MAX_REDIRECT_URIS,
    ClientError,
    clean_client_name,
    delete_client,
    validate_redirect_uri,
)
from plugin.oauth.models import OAuthClient
from plugin.oauth.scopes import ordered, scopes
from plugin.oauth.traces.registration import registered, registration_refused

GRANT_TYPES = ("authorization_code", "refresh_token")


class RegistrationError(ValueError):
    """A refused registration; ``error`` is the RFC 7591 §3.2.2 code."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error


def _string_list(metadata: dict[str, Any], key: str, default: list[str]) -> list[str]:
    value = metadata.get(key, default)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise RegistrationError("invalid_client_metadata", f"'{key}' must be a list of strings.")
    return value


def clean_registration_redirect_uri(uri: str) -> str:
    """A redirect URI a self-registered client may use: https, or http on loopback."""
    try:
        value = validate_redirect_uri(uri)
    except ClientError as error:
        raise RegistrationError("invalid_redirect_uri", str(error)) from None
    if urlsplit(value).query:
        raise RegistrationError("invalid_redirect_uri", f"Redirect URI {uri!r} has a query.")
    return value


def clean_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """The registration this server grants for ``metadata``, or RegistrationError."""
    uris = _string_list(metadata, "redirect_uris", [])
    if not uris:
        raise RegistrationError("invalid_redirect_uri", "'redirect_uris' is required.")
    if len(uris) > MAX_REDIRECT_URIS:
        raise RegistrationError(
            "invalid_redirect_uri", f"At most {MAX_REDIRECT_URIS} redirect URIs."
        )
    redirect_uris = list(dict.fromkeys(clean_registration_redirect_uri(uri) for uri in uris))
    grant_types = _string_list(metadata, "grant_types", ["authorization_code", "refresh_token"])
    unsupported = [name for name in grant_types if name not in GRANT_TYPES]
    if unsupported or "authorization_code" not in grant_types:
        raise RegistrationError(
            "invalid_client_metadata",
            "'grant_types' may hold only authorization_code and refresh_token.",
        )
    if _string_list(metadata, "response_types", ["code"]) != ["code"]:
        raise RegistrationError("invalid_client_metadata", "'response_types' must be ['code'].")
    method = metadata.get("token_endpoint_auth_method", "none")
    if method not in ("none", None):
        # RFC 7591 §3.2.1 lets the server substitute values; a secret would be a liability
        # for a client anyone can register, so every such client is public.
        method = "none"
    # Without a name, the callback's host stands in, in ASCII: never look-alike letters.
    host = ascii_host(urlsplit(redirect_uris[0]).hostname or "")
    name = metadata.get("client_name") or host or "Unnamed app"
    if not isinstance(name, str):
        raise RegistrationError("invalid_client_metadata", "'client_name' must be a string.")
    try:
        # Anyone may register, and the consent page shows the name: no line breaks to fake
        # a second line, no NUL (PostgreSQL cannot store it), no direction override.
        name = clean_client_name(name)
    except ClientError as error:
        raise RegistrationError("invalid_client_metadata", f"'client_name': {error}") from None
    problem = impersonation_problem(name, redirect_uris)
    if problem:
        raise RegistrationError("invalid_client_metadata", problem)
    scope = metadata.get("scope")
    if scope is not None and not isinstance(scope, str):
        raise RegistrationError("invalid_client_metadata", "'scope' must be a string.")
    unknown = [item for item in (scope or "").split() if item not in scopes()]
    if unknown:
        raise RegistrationError("invalid_client_metadata", f"Unknown scope {unknown[0]!r}.")
    return {
        "client_name": name,
        "redirect_uris": redirect_uris,
        "grant_types": [name for name in GRANT_TYPES if name in grant_types],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "scope": ordered((scope or "").split()) or " ".join(scopes()),
    }


def register_dynamic_client(metadata: Any) -> tuple[OAuthClient, bool]:
    """Register (or find the identical earlier registration of) a public client.

    Returns the client and whether it is new. Flushes; the caller commits.
    """
    try:
        if not isinstance(metadata, dict):
            raise RegistrationError(
                "invalid_client_metadata", "Send the client metadata as a JSON object."
            )
        granted = clean_metadata(metadata)
    except RegistrationError as error:
        registration_refused(metadata, str(error))
        raise
    fingerprint = digest(json.dumps(granted, sort_keys=True))
    twin = db.session.scalar(
        sa.select(OAuthClient)
        .where(
            OAuthClient.kind == "dynamic",
            OAuthClient.registration_digest == fingerprint,
            OAuthClient.is_disabled.is_(False),
        )
        .order_by(OAuthClient.id)
        .limit(1)
    )
    if twin is not None:
        registered(twin, created=False)
        return twin, False
    client = OAuthClient(
        client_id="dyn_" + secrets.token_urlsafe(18),
        client_secret_hash=None,
        name=granted["client_name"],
        redirect_uris=granted["redirect_uris"],
        scope=granted["scope"],
        token_endpoint_auth_method="none",  # noqa: S106 - a method name, not a secret
        kind="dynamic",
        registration_digest=fingerprint,
    )
    db.session.add(client)
    db.session.flush()
    record(
        "client.registered",
        subject=f"client:{client.client_id}",
        name=client.name,
        kind="dynamic",
        redirect_uris=client.redirect_uris,
    )
    registered(client, created=True)
    return client, True


def registration_response(client: OAuthClient) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "client_id_issued_at": int(client.created_at.timestamp()),
        "client_name": client.name,
        "redirect_uris": list(client.redirect_uris),
        "grant_types": list(GRANT_TYPES),
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "scope": client.scope,
    }


# Clients that made themselves: both kinds are pruned when unused.
SELF_MADE_KINDS = ("dynamic", "metadata-document")


def prune_self_made_clients(unused_days: int) -> int:
    """Delete dynamic registrations and metadata-document clients unused (no token) for
    ``unused_days``; return how many.

    A disabled metadata-document client is kept: it is how an operator blocks that URL.
    """
    cutoff = utcnow() - timedelta(days=unused_days)
    stale = db.session.scalars(
        sa.select(OAuthClient).where(
            OAuthClient.kind.in_(SELF_MADE_KINDS),
            sa.or_(OAuthClient.kind == "dynamic", OAuthClient.is_disabled.is_(False)),
            sa.func.coalesce(OAuthClient.last_used_at, OAuthClient.created_at) < cutoff,
        )
    ).all()
    for client in stale:
        delete_client(client)
    return len(stale)
