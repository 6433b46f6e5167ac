"""The account's e-mails: reset links, verification, a new address, and the notices.

Each link is a random secret sent once and stored as its digest. A message is sent before
its link is stored: when the mail server refuses it, nothing changes (no dead link, and an
earlier link keeps working) and the caller tells the person to try again.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy.exc import IntegrityError

from plugin.accounts.addresses import email_problem, normalize_email
from plugin.accounts.links import find_link, spend_link
from plugin.accounts.models import EmailToken, User
from plugin.accounts.reauth import reauthentication_problem
from plugin.accounts.services import (
    AccountError,
    NotReauthenticated,
    create_password_reset,
    get_user_by_email,
    spend_email_tokens,
    spend_password_resets,
)
from plugin.accounts.throttle import mail_allowed
from plugin.audit.services import record
from plugin.clock import utcnow
from plugin.database_errors import is_unique_violation
from plugin.digests import digest, new_secret
from plugin.extensions import db
from plugin.mail.services import absolute_url, send_message

LINK_INVALID = "This link is invalid, expired or already used."


def _minutes(setting: str) -> int:
    return max(1, int(current_app.config[setting]) // 60)


def _stored_target(return_to: str | None) -> str | None:
    return return_to if return_to and len(return_to) <= 2048 else None


def send_reset_link(email: str, *, return_to: str | None = None) -> bool:
    """E-mail a reset link if ``email`` has an account, and a short note if it has none.

    Either way one message goes to the address, so the page, its timing and a mail-server
    failure look the same whether or not an account exists. False: the server refused.
    """
    email = normalize_email(email)
    if email_problem(email) or not mail_allowed("reset", email):
        return True
    user = get_user_by_email(email)
    if user is None or user.is_disabled:
        sent = send_message(
            "reset_unavailable",
            email,
            "Password reset",
            user_id=user.id if user else None,
            disabled=user is not None,
            signup_url=absolute_url("accounts.signup"),
        )
        record("user.password_reset_unavailable", email=email, sent=sent)
        return sent
    token = new_secret()
    sent = send_message(
        "reset_link",
        user.email,
        "Reset your password",
        user_id=user.id,
        link=absolute_url("accounts.reset_password", token=token),
        minutes=_minutes("FORGOT_PASSWORD_TTL"),
    )
    if sent:
        create_password_reset(
            user,
            ttl_seconds=current_app.config["FORGOT_PASSWORD_TTL"],
            token=token,
            return_to=_stored_target(return_to),
        )
    return sent


def _email_link(
    user: User, purpose: str, address: str, ttl_key: str, return_to: str | None
) -> tuple[str, EmailToken]:
    token = new_secret()
    row = EmailToken(
        user_id=user.id,
        purpose=purpose,
        email=address,
        token_hash=digest(token),
        expires_at=utcnow() + timedelta(seconds=current_app.config[ttl_key]),
        return_to=_stored_target(return_to),
    )
    return token, row


def send_verification(user: User, *, return_to: str | None = None) -> bool:
    """E-mail ``user`` a link that verifies their address; False if the server refused.

    Over ``ACCOUNT_MAIL_RATE_LIMIT`` nothing is sent and AccountError says to wait.
    """
    if not mail_allowed("verify", user.email):
        raise AccountError("We sent several e-mails recently. Wait a few minutes, then try again.")
    token, row = _email_link(user, "verify", user.email, "EMAIL_VERIFICATION_TTL", return_to)
    sent = send_message(
        "verify",
        user.email,
        "Verify your e-mail address",
        user_id=user.id,
        link=absolute_url("account_email.verify", token=token),
        hours=current_app.config["EMAIL_VERIFICATION_TTL"] // 3600,
    )
    if sent:
        db.session.add(row)
        record("user.verification_sent", actor=user, subject=f"user:{user.id}")
        db.session.flush()
    return sent


def _find_token(token: str, purpose: str) -> EmailToken | None:
    return find_link(EmailToken, token, EmailToken.purpose == purpose)


def _spend(row: EmailToken) -> None:
    if not spend_link(EmailToken, row):
        raise AccountError(LINK_INVALID)


def verify_email(token: str) -> tuple[User, str | None]:
    """Mark the address verified through a link; return the user and where to go next."""
    row = _find_token(token, "verify")
    user = db.session.get(User, row.user_id) if row else None
    if row is None or user is None or row.email != user.email:
        # A link for an address the account no longer has proves nothing about the new one.
        raise AccountError(LINK_INVALID)
    _spend(row)
    spend_email_tokens(user.id, "verify")
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        record("user.email_verified", actor=user, subject=f"user:{user.id}")
    db.session.flush()
    return user, row.return_to


def request_email_change(user: User, new_email: str, password: str) -> bool:
    """After the person proved again who they are (``plugin.accounts.reauth``), e-mail a
    confirmation link to the new address.

    Raises AccountError (wrong password, unusable address, too many e-mails); False when
    the mail server refused. Whether the new address is taken is told only to its owner.
    """
    problem = reauthentication_problem(user, password)
    if problem:
        raise NotReauthenticated(problem)
    new_email = normalize_email(new_email)
    problem = email_problem(new_email)
    if problem:
        raise AccountError(problem)
    if new_email == user.email:
        raise AccountError("This is already your address.")
    if not mail_allowed("change", new_email):
        raise AccountError("We sent several e-mails recently. Wait a few minutes, then try again.")
    token, row = _email_link(user, "change", new_email, "EMAIL_CHANGE_TTL", None)
    sent = send_message(
        "email_change",
        new_email,
        "Confirm your new e-mail address",
        user_id=user.id,
        link=absolute_url("account_email.confirm_change", token=token),
        old_email=user.email,
        hours=max(1, current_app.config["EMAIL_CHANGE_TTL"] // 3600),
    )
    if sent:
        db.session.add(row)
        record("user.email_change_requested", actor=user, subject=f"user:{user.id}")
        db.session.flush()
    return sent


def find_email_change(token: str) -> EmailToken | None:
    """The pending address change behind a link, if it can still be confirmed."""
    return _find_token(token, "change")


def confirm_email_change(token: str) -> tuple[User, str]:
    """Make the link's address the account's; return the user and the old address."""
    row = _find_token(token, "change")
    user = db.session.get(User, row.user_id) if row else None
    if row is None or user is None:
        raise AccountError(LINK_INVALID)
    _spend(row)
    old_email = user.email
    try:
        with db.session.begin_nested():
            user.email = row.email
            user.email_verified_at = utcnow()
            db.session.flush()
    except IntegrityError as error:
        if is_unique_violation(error):
            raise AccountError(
                "Another account uses this address, so it cannot become yours."
            ) from None
        raise
    spend_email_tokens(user.id, "change")
    spend_email_tokens(user.id, "verify")
    # A reset link went to the old address, which may no longer be the owner's.
    spend_password_resets(user.id)
    record(
        "user.email_changed",
        actor=user,
        subject=f"user:{user.id}",
        old_email=old_email,
        new_email=user.email,
    )
    db.session.flush()
    return user, old_email


def notify_password_changed(user: User) -> bool:
    return send_message(
        "password_changed",
        user.email,
        "Your password was changed",
        user_id=user.id,
        reset_url=absolute_url("account_recovery.forgot_password"),
    )


def notify_email_changed(user: User, old_email: str) -> bool:
    return send_message(
        "email_changed",
        old_email,
        "Your e-mail address was changed",
        user_id=user.id,
        new_email=user.email,
    )


def notify_passkey_added(user: User, name: str) -> bool:
    """Tell the address that a passkey now opens the account: someone who learnt the password
    could otherwise add one unseen and keep getting in after the password is changed."""
    return send_message(
        "passkey_added",
        user.email,
        "A passkey was added to your account",
        user_id=user.id,
        name=name,
        account_url=absolute_url("accounts.account"),
        reset_url=absolute_url("account_recovery.forgot_password"),
    )
