"""Account operations shared by the pages, the admin area and the CLI.

Functions flush but never commit: the request or command that calls them commits.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from blinker import Namespace
from sqlalchemy.exc import IntegrityError

from plugin.accounts.addresses import email_problem, legacy_form, normalize_email
from plugin.accounts.links import find_link, spend_link, spend_links
from plugin.accounts.models import EmailToken, PasswordReset, User
from plugin.accounts.passwords import (
    dummy_hash,
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from plugin.accounts.reauth import WRONG_CURRENT_PASSWORD, reauthentication_problem
from plugin.accounts.sessions import end_sessions
from plugin.audit.services import record
from plugin.clock import utcnow
from plugin.database import rows_affected
from plugin.database_errors import is_unique_violation
from plugin.digests import digest, new_secret
from plugin.extensions import db

_signals = Namespace()
# Sent with the user as sender when an account is disabled; features above accounts (OAuth)
# subscribe to revoke what they hold for that person.
user_disabled = _signals.signal("user-disabled")
# Sent with the user when the password was changed or reset: every token issued under the
# old password is revoked by the features that hold them.
password_changed = _signals.signal("password-changed")

__all__ = ["email_problem", "normalize_email"]  # re-exported: the one normalisation


class AccountError(ValueError):
    """A refused account operation; the message is safe to show to the person."""


class NotReauthenticated(AccountError):
    """The person did not prove again who they are (``plugin.accounts.reauth``)."""


class EmailTaken(AccountError):
    """The email already belongs to an account (the sign-up page words this generically)."""


def get_user_by_email(email: str) -> User | None:
    """The account for ``email`` in any spelling; accounts made before addresses were fully
    normalised are found under their old form too."""
    normal, legacy = normalize_email(email), legacy_form(email)
    users = db.session.scalars(sa.select(User).where(User.email.in_({normal, legacy}))).all()
    return next((u for u in users if u.email == normal), users[0] if users else None)


def create_user(
    email: str,
    password: str | None,
    *,
    is_admin: bool = False,
    actor: User | None = None,
    by_operator: bool = False,
    method: str | None = None,
) -> User:
    """Create an account, or raise AccountError (bad email, weak password, email taken).

    ``password`` None makes an account without one, which signs in with the passkey its
    caller adds in the same transaction (``plugin.accounts.passkey_signup``), or with the
    upstream identity linked with it (``method`` names it). Audited as
    ``user.created`` when an admin (``actor``) or the CLI (``by_operator``) made it, as
    ``user.signup`` when the person signed up.
    """
    email = normalize_email(email)
    problem = email_problem(email)
    if password is not None:
        problem = problem or password_problem(password, email)
    if problem:
        raise AccountError(problem)
    password_hash = hash_password(password) if password is not None else None
    user = User(email=email, password_hash=password_hash, is_admin=is_admin)
    try:
        # A savepoint keeps the caller's transaction usable when two sign-ups race.
        with db.session.begin_nested():
            db.session.add(user)
            db.session.flush()
    except IntegrityError as error:
        if is_unique_violation(error):
            raise EmailTaken("An account with this email already exists.") from None
        raise
    record(
        "user.created" if actor or by_operator else "user.signup",
        actor=actor or user,
        subject=f"user:{user.id}",
        email=email,
        admin=is_admin,
        method=method or ("password" if password is not None else "passkey"),
    )
    return user


def authenticate(email: str, password: str) -> User | None:
    """Return the user for a correct email and password, else None; same work either way."""
    user = get_user_by_email(email)
    if user is None or user.password_hash is None:
        # An unknown email, and an account that signs in only with passkeys, are refused as
        # a wrong password is, after the same Argon2 work.
        verify_password(dummy_hash(), password)
        return None
    if not verify_password(user.password_hash, password) or user.is_disabled:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def change_password(user: User, current: str, new: str, *, keep_session_id: int | None) -> None:
    """Change the password after checking the current one, or set the first password of an
    account without one after its recent passkey sign-in (``reauth``); end other sessions."""
    problem = reauthentication_problem(user, current, wrong=WRONG_CURRENT_PASSWORD)
    if problem:
        raise NotReauthenticated(problem)
    problem = password_problem(new, user.email)
    if problem:
        raise AccountError(problem)
    first = not user.has_password
    set_password(user, new, keep_session_id=keep_session_id)
    record(
        "user.password_set" if first else "user.password_changed",
        actor=user,
        subject=f"user:{user.id}",
    )


def set_password(user: User, new: str, *, keep_session_id: int | None = None) -> None:
    """Set the password; end sessions, spend every reset link and pending address change,
    and (through ``password_changed``) revoke the tokens apps hold."""
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    end_sessions(user.id, keep_session_id=keep_session_id)
    spend_password_resets(user.id)
    # Whoever knew the old password may have asked to move the account to their address.
    spend_email_tokens(user.id, "change")
    password_changed.send(user)
    db.session.flush()


def _change_unless_last_admin(user: User, refusal: str, **values: bool) -> None:
    """Take ``user``'s admin rights away (``values``) only while another active admin remains.

    Two admins removing each other at once must not both succeed: the active admins' rows
    are locked first (PostgreSQL; SQLite runs one writer at a time), and the UPDATE itself
    re-counts the others, so whichever request comes second finds itself the last admin.
    """
    active_admins = sa.and_(User.is_admin, ~User.is_disabled)
    db.session.execute(sa.select(User.id).where(active_admins).with_for_update())
    others = sa.select(sa.func.count(sa.literal_column("1"))).select_from(
        sa.select(User.id).where(active_admins, User.id != user.id).subquery()
    )
    changed = rows_affected(
        sa.update(User).where(User.id == user.id, others.scalar_subquery() > 0).values(**values),
        synchronize=False,
    )
    if changed != 1:
        raise AccountError(refusal)


def remove_admin_unless_last(user: User, refusal: str) -> None:
    """Take ``user``'s admin rights away, or raise AccountError(refusal) if they are the last
    active admin (race-safe, as for set_admin); used before deleting an admin's account."""
    _change_unless_last_admin(user, refusal, is_admin=False)


def spend_password_resets(user_id: int) -> None:
    spend_links(PasswordReset, user_id)


def set_admin(user: User, is_admin: bool, *, actor: User | None = None) -> None:
    if user.is_admin == is_admin:
        return
    if not is_admin:
        _change_unless_last_admin(
            user, "This is the last admin; make someone else an admin first.", is_admin=False
        )
    user.is_admin = is_admin
    record(
        "user.admin_granted" if is_admin else "user.admin_removed",
        actor=actor,
        subject=f"user:{user.id}",
        email=user.email,
    )
    db.session.flush()


def set_disabled(user: User, disabled: bool, *, actor: User | None = None) -> None:
    """Disable (ending sessions and, through ``user_disabled``, tokens) or re-enable a user."""
    if user.is_disabled == disabled:
        return
    if disabled and user.is_admin:
        _change_unless_last_admin(
            user, "This is the last admin; it cannot be disabled.", is_disabled=True
        )
    user.is_disabled = disabled
    if disabled:
        end_sessions(user.id)
        user_disabled.send(user)
    record(
        "user.disabled" if disabled else "user.enabled",
        actor=actor,
        subject=f"user:{user.id}",
        email=user.email,
    )
    db.session.flush()


def create_password_reset(
    user: User,
    *,
    ttl_seconds: int,
    actor: User | None = None,
    token: str | None = None,
    return_to: str | None = None,
) -> str:
    """Make a single-use reset token for ``user``; return the token (shown or sent once)."""
    token = token or new_secret()
    db.session.add(
        PasswordReset(
            user_id=user.id,
            token_hash=digest(token),
            expires_at=utcnow() + timedelta(seconds=ttl_seconds),
            return_to=return_to if return_to and len(return_to) <= 2048 else None,
        )
    )
    record(
        "user.password_reset_created" if actor else "user.password_reset_requested",
        actor=actor,
        subject=f"user:{user.id}",
        email=user.email,
    )
    db.session.flush()
    return token


def find_password_reset(token: str) -> PasswordReset | None:
    """The unused, unexpired reset for ``token``, or None."""
    return find_link(PasswordReset, token)


def use_password_reset(token: str, new_password: str) -> User:
    """Set a new password through a reset token, consuming it atomically."""
    reset = find_password_reset(token)
    if reset is None:
        raise AccountError("This reset link is invalid, expired or already used.")
    user = db.session.get(User, reset.user_id)
    if user is None:  # deleted since the link was made
        raise AccountError("This reset link is invalid, expired or already used.")
    problem = password_problem(new_password, user.email)
    if problem:
        raise AccountError(problem)
    if not spend_link(PasswordReset, reset):
        raise AccountError("This reset link is invalid, expired or already used.")
    set_password(user, new_password)
    if user.email_verified_at is None:
        # The link was read at this address: that is what verifying it means.
        user.email_verified_at = utcnow()
    record("user.password_reset_used", actor=user, subject=f"user:{user.id}")
    return user


def spend_email_tokens(user_id: int, purpose: str) -> None:
    spend_links(EmailToken, user_id, EmailToken.purpose == purpose)
