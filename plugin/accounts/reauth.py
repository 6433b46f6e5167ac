"""Proving again who you are before a consequential change (WL-13), in one place.

Changing the password, the address, deleting the account, removing a passkey (and, in the
admin area, rotating a client secret) ask the person again. Someone with a password types
it. An account without one (signed up with a passkey) counts as asked when this session
signed in with a passkey within the last ``REAUTH_WINDOW``; otherwise the form says to sign
in again with the passkey and links to it. ``throttle.password_check_limit`` limits the
refused tries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import url_for

from plugin.accounts.models import User
from plugin.accounts.passwords import verify_password
from plugin.accounts.sessions import signed_in_at, signed_in_with
from plugin.clock import utcnow

REAUTH_WINDOW = timedelta(minutes=10)

WRONG_PASSWORD = "Your password is not correct."  # noqa: S105 - words, not a password
WRONG_CURRENT_PASSWORD = "Your current password is not correct."  # noqa: S105
SIGN_IN_AGAIN = "Sign in again with your passkey to do this."


# Ways of signing in that prove who you are as well as a password for an account without
# one: a passkey, or an account at an upstream provider (plugin.accounts.upstream).
PASSWORDLESS_METHODS = ("passkey", "upstream")


def signed_in_with_passkey_recently() -> bool:
    """Whether this session signed in with a passkey (or an upstream provider) within the
    last ``REAUTH_WINDOW``."""
    moment = signed_in_at()
    return (
        signed_in_with() in PASSWORDLESS_METHODS
        and moment is not None
        and utcnow() - moment <= REAUTH_WINDOW
    )


def reauthentication_problem(
    user: User, password: str | None, *, wrong: str = WRONG_PASSWORD
) -> str | None:
    """Why the signed-in ``user`` has not proved again who they are, or None if they have:
    ``password`` is theirs, or, without a password, they just signed in with a passkey."""
    if user.password_hash is None:
        return None if signed_in_with_passkey_recently() else SIGN_IN_AGAIN
    return None if verify_password(user.password_hash, password or "") else wrong


@dataclass(frozen=True)
class Reauthentication:
    """What a form that asks again shows (the ``reauth_field`` macro of accounts/_form.html):
    the password field, a note that the passkey sign-in counts, or the way to sign in again."""

    has_password: bool
    fresh: bool
    sign_in_again_url: str
    sign_in_again: str = SIGN_IN_AGAIN


def reauthentication_for(user: User, return_to: str) -> Reauthentication:
    return Reauthentication(
        has_password=user.has_password,
        fresh=not user.has_password and signed_in_with_passkey_recently(),
        sign_in_again_url=url_for("accounts.login", next=return_to),
    )
