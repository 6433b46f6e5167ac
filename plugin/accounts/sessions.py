"""Server-side sessions: the cookie carries a random id; the row decides who is signed in.

Deleting a row (log out, password change, account disabled) ends that session everywhere,
even for a copied cookie, and works across any number of workers and hosts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import abort, current_app, g, redirect, request, session, url_for
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.wrappers import Response as BaseResponse

from plugin.accounts.models import User, UserSession
from plugin.clock import utcnow
from plugin.database import discard_work, rows_affected
from plugin.digests import digest, new_secret
from plugin.extensions import db

SESSION_KEY = "sid"
LAST_SEEN_RESOLUTION = timedelta(minutes=5)

P = ParamSpec("P")
R = TypeVar("R")


def login_user(user: User, *, method: str = "password") -> None:
    """Start a fresh session for ``user``; the old session id is dropped (no fixation).

    ``method`` (password or passkey) is kept with the session for the admin area's rule.
    """
    previous = session.get(SESSION_KEY)
    if isinstance(previous, str):
        # Logging in again (as the same or another person) must not leave the old id valid.
        db.session.execute(sa.delete(UserSession).where(UserSession.sid_hash == digest(previous)))
    session.clear()
    sid = new_secret()
    now = utcnow()
    db.session.add(
        UserSession(
            user_id=user.id,
            sid_hash=digest(sid),
            created_at=now,
            last_seen_at=now,
            ip=(request.remote_addr or "")[:64] or None,
            user_agent=(request.user_agent.string or "")[:255] or None,
            signed_in_with=method,
        )
    )
    user.last_login_at = now
    session[SESSION_KEY] = sid
    session.permanent = True
    g.current_user = user
    g.signed_in_with = method
    g.signed_in_at = now


def logout_user() -> None:
    sid = session.get(SESSION_KEY)
    if sid:
        db.session.execute(sa.delete(UserSession).where(UserSession.sid_hash == digest(sid)))
    session.clear()
    g.current_user = None


def current_session_id() -> int | None:
    """The ``UserSession.id`` of this request's session, if signed in."""
    get_current_user()
    session_id: int | None = g.get("current_session_id")
    return session_id


def signed_in_with() -> str | None:
    """How this request's session was signed in (password or passkey); None if it was not."""
    if get_current_user() is None:
        return None
    method: str | None = g.get("signed_in_with")
    return method


def signed_in_at() -> datetime | None:
    """When this request's session was signed in (its row's ``created_at``); None if not."""
    if get_current_user() is None:
        return None
    moment: datetime | None = g.get("signed_in_at")
    return moment


def get_current_user() -> User | None:
    if "current_user" in g:
        known: User | None = g.current_user
        return known
    g.current_user = None
    sid = session.get(SESSION_KEY)
    if not isinstance(sid, str):
        return None
    row = db.session.execute(
        sa.select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.sid_hash == digest(sid))
    ).first()
    if row is None:
        _forget_session_id()
        return None
    user_session, user = row
    lifetime = current_app.permanent_session_lifetime
    now = utcnow()
    if user.is_disabled or user_session.last_seen_at + lifetime < now:
        # Flushed, not committed: the request's end commits this bookkeeping (plugin.database).
        db.session.delete(user_session)
        db.session.flush()
        _forget_session_id()
        return None
    if now - user_session.last_seen_at > LAST_SEEN_RESOLUTION:
        user_session.last_seen_at = now
        db.session.flush()
    g.current_user = user
    g.current_session_id = user_session.id
    g.signed_in_with = user_session.signed_in_with
    g.signed_in_at = user_session.created_at
    return user


def current_user_for_templates() -> User | None:
    """The signed-in person for the page layout; nobody while the database is down."""
    # A page that does not need the database (a 404, the login form) still renders during a
    # database outage, showing the visitor as signed out; views that need the user ask
    # get_current_user() themselves and get the 503 page.
    try:
        return get_current_user()
    except (OperationalError, PoolTimeoutError):
        discard_work()
        g.current_user = None
        return None


def signed_in_user() -> User:
    """The signed-in person, in a view that ``login_required`` (or ``admin_required``) guards."""
    user = get_current_user()
    if user is None:
        raise RuntimeError("signed_in_user() needs a login_required view")
    return user


def _forget_session_id() -> None:
    # Only the dead session id goes: the CSRF token the page is rendering with must stay, or
    # the first login after a stale cookie fails with "this form has expired".
    session.pop(SESSION_KEY, None)


def end_sessions(user_id: int, *, keep_session_id: int | None = None) -> int:
    """Delete the user's sessions (all, or all but one); return how many ended."""
    statement = sa.delete(UserSession).where(UserSession.user_id == user_id)
    if keep_session_id is not None:
        statement = statement.where(UserSession.id != keep_session_id)
    return rows_affected(statement)


def safe_next(target: str | None, fallback: str = "/account") -> str:
    """Return ``target`` if it is a path on this site, otherwise ``fallback`` (no open redirect)."""
    if not target or not isinstance(target, str):
        return fallback
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    if any(ord(ch) < 32 for ch in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target


def login_required(view: Callable[P, R]) -> Callable[P, R | BaseResponse]:
    """Send a visitor who is not signed in to the login page, and back here afterwards."""

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | BaseResponse:
        if get_current_user() is None:
            return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


ADMINS_ONLY = (
    "This area is for administrators. Ask an administrator to give your account admin "
    "rights, or sign in with an administrator's account."
)


def admin_required(view: Callable[P, R]) -> Callable[P, R | BaseResponse]:
    """Like ``login_required``, and refuse (403) anyone who is not an admin."""

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | BaseResponse:
        user = get_current_user()
        if user is None:
            return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
        if not user.is_admin:
            # The error page adds who is signed in and a way back (templates/errors/error.html).
            abort(403, description=ADMINS_ONLY)
        return view(*args, **kwargs)

    return wrapped
