"""Show a secret once, on the page an admin form's POST redirects to.

A POST that makes a secret (a new client, a rotated client secret, a password-reset link)
keeps it in the session, encrypted with a key derived from SECRET_KEY, and answers 303; the
page it redirects to takes it out and shows it. Reloading that page finds nothing, and the
POST is never repeated, so a reload neither creates a second client nor shows the secret
again. The secret never travels in a URL and is never readable in the cookie.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app, session

SESSION_KEY = "admin.reveal"
# Long enough to follow a redirect on a slow connection, short enough that a stash left
# behind (the redirect never followed) is useless.
TTL_SECONDS = 300


def _fernet() -> Fernet:
    secret_key = str(current_app.secret_key).encode()
    key = hashlib.sha256(b"plugin.admin.reveal\0" + secret_key).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def stash(purpose: str, secret: str, **facts: Any) -> None:
    """Keep ``secret``, and plain ``facts`` about it, for the next page asking for ``purpose``."""
    sealed = _fernet().encrypt(secret.encode()).decode()
    session[SESSION_KEY] = {"purpose": purpose, "sealed": sealed, "facts": facts}


def take(purpose: str) -> tuple[str, dict[str, Any]] | None:
    """The secret kept for ``purpose`` and its facts, removed from the session; else None."""
    held = session.pop(SESSION_KEY, None)
    if not isinstance(held, dict) or held.get("purpose") != purpose:
        return None
    try:
        secret = _fernet().decrypt(str(held["sealed"]).encode(), ttl=TTL_SECONDS).decode()
    except (InvalidToken, KeyError):
        return None
    return secret, dict(held.get("facts") or {})
