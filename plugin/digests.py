"""Random secrets and the SHA-256 digests stored in their place (sessions, codes, tokens, links).

A value given out once is kept only as its digest, so a copy of the database opens nothing.
"""

from __future__ import annotations

import hashlib
import secrets

SECRET_BYTES = 32  # 256 bits of entropy


def new_secret(nbytes: int = SECRET_BYTES) -> str:
    return secrets.token_urlsafe(nbytes)


def digest(value: str) -> str:
    """The SHA-256 hex digest that is stored instead of ``value``."""
    return hashlib.sha256(value.encode()).hexdigest()
