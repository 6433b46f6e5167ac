"""One passkey ceremony: the challenge a browser is given, spent by its one answer.

The browser's session carries the challenge; a row holding its digest makes it single-use
and short-lived on every worker, whatever copy of the cookie comes back. The relying party
(host name and origin) comes from ``PLUGIN_BASE_URL``, else from the request.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, request, session
from webauthn.helpers import bytes_to_base64url, parse_client_data_json
from webauthn.helpers.exceptions import WebAuthnException

from plugin.accounts.models import PasskeyChallenge, User
from plugin.clock import utcnow
from plugin.database import rows_affected
from plugin.digests import digest
from plugin.extensions import db

# What a garbled answer can raise while it is taken apart (bad base64, CBOR, types).
UNREADABLE = (WebAuthnException, ValueError, TypeError, KeyError, IndexError, AttributeError)

NO_CEREMONY = "This passkey request has expired or was already used. Press the button again."
BAD_ANSWER = "Your passkey's answer could not be checked. Press the button and try again."
WRONG_ORIGIN = (
    "Your passkey answered for {origin}, not for this site ({expected}). Open this site at "
    "{expected} and try again."
)


class PasskeyError(ValueError):
    """A refused passkey step; the message is safe to show beside the button or ``field``."""

    def __init__(
        self, message: str, reason: str, *, field: str | None = None, user: User | None = None
    ) -> None:
        super().__init__(message)
        self.reason = reason  # a short word for the audit log
        self.field = field
        self.user = user


def relying_party() -> tuple[str, str]:
    """The relying party id (a host name) and the one origin answers may come from: those of
    ``PLUGIN_BASE_URL``, else of this request."""
    parts = urlsplit(current_app.config["PLUGIN_BASE_URL"] or request.host_url)
    host = parts.hostname or ""
    try:
        number = parts.port
    except ValueError:  # a Host header with a nonsense port: no browser's origin matches
        number = None
    default_port = {"https": 443, "http": 80}.get(parts.scheme)
    port = f":{number}" if number and number != default_port else ""
    return host, f"{parts.scheme}://{host}{port}"


def _session_key(purpose: str) -> str:
    return f"passkey_{purpose}"


def start_ceremony(purpose: str, user_id: int | None, **kept: str) -> bytes:
    """A fresh challenge for this browser (its session) and its single-use row."""
    challenge = secrets.token_bytes(32)
    encoded = bytes_to_base64url(challenge)
    now = utcnow()
    db.session.execute(sa.delete(PasskeyChallenge).where(PasskeyChallenge.expires_at < now))
    ttl = timedelta(seconds=current_app.config["PASSKEY_CHALLENGE_TTL"])
    db.session.add(
        PasskeyChallenge(
            challenge_hash=digest(encoded), purpose=purpose, user_id=user_id, expires_at=now + ttl
        )
    )
    db.session.flush()
    session[_session_key(purpose)] = {"challenge": encoded, **kept}
    return challenge


def finish_ceremony(purpose: str, user_id: int | None) -> dict[str, str]:
    """Spend this browser's challenge for ``purpose``; refuse a missing, expired or used one."""
    kept = session.pop(_session_key(purpose), None)
    if not isinstance(kept, dict) or not isinstance(kept.get("challenge"), str):
        raise PasskeyError(NO_CEREMONY, "no_challenge")
    owner = (
        PasskeyChallenge.user_id.is_(None)
        if user_id is None
        else (PasskeyChallenge.user_id == user_id)
    )
    spent = rows_affected(
        sa.delete(PasskeyChallenge).where(
            PasskeyChallenge.challenge_hash == digest(kept["challenge"]),
            PasskeyChallenge.purpose == purpose,
            PasskeyChallenge.expires_at >= utcnow(),
            owner,
        ),
        synchronize=False,
    )
    if spent != 1:
        raise PasskeyError(NO_CEREMONY, "challenge_spent")
    return {key: value for key, value in kept.items() if isinstance(value, str)}


def credential_object(credential: object) -> dict[str, Any]:
    if not isinstance(credential, dict):
        raise PasskeyError(BAD_ANSWER, "unreadable")
    return credential


def check_client_data(client_data_json: bytes, challenge: bytes, origin: str) -> None:
    """Refuse, in words, an answer made for another site or another request."""
    try:
        client_data = parse_client_data_json(client_data_json)
    except UNREADABLE:
        raise PasskeyError(BAD_ANSWER, "unreadable") from None
    if client_data.origin != origin:
        shown = str(client_data.origin)[:200]
        raise PasskeyError(WRONG_ORIGIN.format(origin=shown, expected=origin), "origin")
    if client_data.challenge != challenge:
        raise PasskeyError(NO_CEREMONY, "other_challenge")
