"""Token values, their digests, and issuing a stored access/refresh pair."""

from __future__ import annotations

import base64
import json
import os
import secrets
from datetime import timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

from plugin.accounts.models import User
from plugin.clock import utcnow
from plugin.database import insert_row
from plugin.digests import digest, new_secret
from plugin.oauth.models import OAuthClient, OAuthToken


def token_response(scope: str, *, include_refresh_token: bool = True) -> dict[str, Any]:
    """Fresh token values in the response shape ChatGPT expects (``scope`` always present)."""
    body: dict[str, Any] = {
        "access_token": new_secret(),
        "token_type": "Bearer",
        "expires_in": current_app.config["ACCESS_TOKEN_TTL"],
        "scope": scope or "",
    }
    if include_refresh_token:
        body["refresh_token"] = new_secret()
    return body


def store_tokens(
    body: dict[str, Any],
    client: OAuthClient,
    user: User,
    *,
    family_id: str | None = None,
    authorization_code_id: int | None = None,
    resource: str | None = None,
) -> dict[str, Any]:
    """Store the digests of a token response's values (the values themselves are never
    kept); return the stored row's columns."""
    config = current_app.config
    now = utcnow()
    refresh_token = body.get("refresh_token")
    row = {
        "client_id": client.id,
        "user_id": user.id,
        "access_token_hash": digest(body["access_token"]),
        "refresh_token_hash": digest(refresh_token) if refresh_token else None,
        "scope": body.get("scope", ""),
        "issued_at": now,
        "access_expires_at": now + timedelta(seconds=config["ACCESS_TOKEN_TTL"]),
        "refresh_expires_at": (
            now + timedelta(seconds=config["REFRESH_TOKEN_TTL"]) if refresh_token else None
        ),
        "family_id": family_id or secrets.token_hex(16),
        "authorization_code_id": authorization_code_id,
        "resource": resource,
    }
    insert_row(OAuthToken, row)
    return row


def issue_tokens(
    client: OAuthClient, user: User, scope: str, *, resource: str | None = None
) -> dict[str, Any]:
    """Store a new token pair outside any grant (tests, benchmarks, tools); return its body."""
    body = token_response(scope)
    store_tokens(body, client, user, resource=resource)
    return body


def _retry_key(refresh_token: str) -> bytes:
    # Derived from the refresh token's value, which is never stored: the digest kept in the
    # database does not yield it, so a copy of the database cannot read the sealed answer.
    salt = str(current_app.config["SECRET_KEY"]).encode()
    kdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"refresh-retry-answer")
    return kdf.derive(refresh_token.encode())


def seal_retry_answer(body: dict[str, Any], refresh_token: str) -> str:
    """The new token pair, encrypted so that only the holder of ``refresh_token`` opens it."""
    nonce = os.urandom(12)
    sealed = AESGCM(_retry_key(refresh_token)).encrypt(nonce, json.dumps(body).encode(), None)
    return base64.b64encode(nonce + sealed).decode()


def open_retry_answer(sealed: str, refresh_token: str) -> dict[str, Any] | None:
    """The pair ``seal_retry_answer`` sealed with ``refresh_token``, or None."""
    try:
        raw = base64.b64decode(sealed)
        plain = AESGCM(_retry_key(refresh_token)).decrypt(raw[:12], raw[12:], None)
    except (ValueError, InvalidTag):
        return None
    body: dict[str, Any] = json.loads(plain)
    return body
