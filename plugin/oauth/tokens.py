"""Token values, their digests, and issuing a stored access/refresh pair."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from flask import current_app

from plugin.accounts.models import User
from plugin.clock import utcnow
from plugin.extensions import db
from plugin.oauth.models import OAuthClient, OAuthToken

TOKEN_BYTES = 32  # 256 bits of entropy for codes, tokens and secrets


def new_secret() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def digest(value: str) -> str:
    """SHA-256 hex digest: what is stored in place of every code, token and secret."""
    return hashlib.sha256(value.encode()).hexdigest()


def issue_tokens(
    client: OAuthClient,
    user: User,
    scope: str,
    *,
    family_id: str | None = None,
    authorization_code_id: int | None = None,
    include_refresh_token: bool = True,
) -> dict[str, Any]:
    """Store a new token pair and return the token response body (values shown once)."""
    config = current_app.config
    now = utcnow()
    access_token = new_secret()
    refresh_token = new_secret() if include_refresh_token else None
    row = OAuthToken(
        client_id=client.id,
        user_id=user.id,
        access_token_hash=digest(access_token),
        refresh_token_hash=digest(refresh_token) if refresh_token else None,
        scope=scope,
        issued_at=now,
        access_expires_at=now + timedelta(seconds=config["ACCESS_TOKEN_TTL"]),
        refresh_expires_at=(
            now + timedelta(seconds=config["REFRESH_TOKEN_TTL"]) if refresh_token else None
        ),
        family_id=family_id or secrets.token_hex(16),
        authorization_code_id=authorization_code_id,
    )
    db.session.add(row)
    db.session.flush()
    body: dict[str, Any] = {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": config["ACCESS_TOKEN_TTL"],
        "scope": scope,
    }
    if refresh_token:
        body["refresh_token"] = refresh_token
    return body
