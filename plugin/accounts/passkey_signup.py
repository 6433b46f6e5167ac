"""Signing up with a passkey: an account with no password, made with its first passkey.

The same address rules as the password sign-up (``create_user``): a taken address is refused
in the same words, before the browser's prompt, so that nobody is left holding a passkey
that opens nothing. The account and its passkey are stored together or not at all; the view
commits once, as it signs the person in.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.exc import IntegrityError
from webauthn.helpers import bytes_to_base64url

from plugin.accounts.ceremonies import PasskeyError, finish_ceremony, start_ceremony
from plugin.accounts.models import Passkey, User
from plugin.accounts.passkey_checks import ALREADY_ADDED, creation_options, verified_passkey
from plugin.accounts.passkeys import record_passkey_event
from plugin.accounts.services import (
    EmailTaken,
    create_user,
    get_user_by_email,
    normalize_email,
)
from plugin.database_errors import is_unique_violation
from plugin.extensions import db

TAKEN = "An account with this email already exists."


def signup_options(email: str) -> dict[str, Any]:
    """Options for ``navigator.credentials.create()`` that make the first passkey of a new
    account for ``email`` (already checked by ``SignupEmailForm``); EmailTaken if it has one."""
    email = normalize_email(email)
    if get_user_by_email(email) is not None:
        raise EmailTaken(TAKEN)
    handle = secrets.token_bytes(32)
    challenge = start_ceremony("signup", None, email=email, handle=bytes_to_base64url(handle))
    return creation_options(email, handle, challenge, existing=[])


def create_account_with_passkey(credential: object) -> tuple[User, Passkey]:
    """Check the browser's answer to ``signup_options``; make the account and its passkey.

    PasskeyError for an answer that does not hold, AccountError (EmailTaken) for an address
    taken since the options were given.
    """
    kept = finish_ceremony("signup", None)
    passkey = verified_passkey(kept, credential, None)
    try:
        # One savepoint for both: a refused passkey leaves no account without a way in.
        with db.session.begin_nested():
            user = create_user(kept["email"], None)
            passkey.user_id = user.id
            db.session.add(passkey)
            db.session.flush()
    except IntegrityError as error:
        if is_unique_violation(error):
            raise PasskeyError(ALREADY_ADDED, "duplicate") from None
        raise
    record_passkey_event("user.passkey_added", user, passkey)
    return user, passkey
