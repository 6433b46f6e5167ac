"""Throttling that slows guessing without letting anyone lock a chosen person out.

Only failed logins count, in three ways (``LOGIN_LIMITS``; Flask-Limiter, shared through
Redis when set):

- per address (``LOGIN_RATE_LIMIT``): one machine guessing at many accounts;
- per account *and* address (``LOGIN_PAIR_RATE_LIMIT``): one machine guessing at one
  account; the owner, elsewhere, is not affected;
- per account (``LOGIN_ACCOUNT_RATE_LIMIT``): many machines guessing at one account.

A browser that once signed in to the account carries a signed cookie naming it (OWASP's
"device cookie") and is exempt from both per-account limits (WL-17), so the owner keeps
getting in on their own devices during such an attack, even from the attacker's address
(one NAT, one office network).

E-mails about one account (reset links, verification, a new address) are limited per
address whoever asks (``ACCOUNT_MAIL_RATE_LIMIT``), so nobody can flood a mailbox.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar, cast

import flask
from flask import current_app, request
from flask_limiter import RequestLimit, RouteLimit
from flask_limiter.util import get_remote_address
from itsdangerous import BadSignature, URLSafeSerializer
from limits import parse_many
from werkzeug.wrappers import Response

from plugin.accounts.addresses import normalize_email
from plugin.accounts.view_helpers import TOO_MANY
from plugin.config import text_setting
from plugin.extensions import limiter

log = logging.getLogger(__name__)

DEVICE_COOKIE = "known_accounts"
DEVICE_COOKIE_DAYS = 400  # the most a browser keeps a cookie
DEVICE_COOKIE_ACCOUNTS = 5


def shown_again(response: Response) -> bool:
    """A form answered with itself (200) was refused: a wrong password, a bad field."""
    return response.status_code == 200


def refused_password(response: Response) -> bool:
    """A JSON step that checks the password answered 403: the password was wrong."""
    return response.status_code == 403


def password_check_limit(
    scope: str, refused: Callable[[Response], bool] = shown_again
) -> RouteLimit:
    """Throttle per address a form that checks the signed-in person's password: only the
    refused tries (the form shown again, or what ``refused`` says) count."""
    return limiter.limit(
        text_setting("LOGIN_RATE_LIMIT"),
        key_func=get_remote_address,
        deduct_when=refused,
        error_message=TOO_MANY,
        scope=scope,
    )


def signup_limit() -> RouteLimit:
    """``SIGNUP_RATE_LIMIT`` per address, one count shared by every way of signing up (the
    password form, and asking to sign up with a passkey), so neither tells more often than
    the other whether an address is taken."""
    return limiter.shared_limit(
        text_setting("SIGNUP_RATE_LIMIT"),
        scope="signup-ip",
        methods=["POST"],
        key_func=get_remote_address,
        error_message=TOO_MANY,
    )


def _email() -> str:
    return normalize_email(request.form.get("email", ""))[:254]


def pair_key() -> str:
    return f"login-pair:{_email()}|{get_remote_address()}"


def account_key() -> str:
    return "login-account:" + _email()


@dataclass(frozen=True)
class LoginLimit:
    """One way failed logins are counted."""

    setting: str
    scope: str
    key: Callable[[], str]
    per_account: bool


LOGIN_LIMITS = (
    LoginLimit("LOGIN_RATE_LIMIT", "login-ip", get_remote_address, per_account=False),
    LoginLimit("LOGIN_PAIR_RATE_LIMIT", "login-pair", pair_key, per_account=True),
    LoginLimit("LOGIN_ACCOUNT_RATE_LIMIT", "login-account", account_key, per_account=True),
)

P = ParamSpec("P")
R = TypeVar("R")


def login_limits(
    on_breach: Callable[[RequestLimit], flask.Response | None],
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Apply every one of ``LOGIN_LIMITS`` to a login view: only refused tries (the form
    shown again) count, a known device skips the per-account ones, and ``on_breach``
    answers once any is reached."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        for item in LOGIN_LIMITS:
            limit = limiter.limit(
                text_setting(item.setting),
                methods=["POST"],
                key_func=item.key,
                deduct_when=shown_again,
                exempt_when=known_device if item.per_account else None,
                error_message=TOO_MANY,
                on_breach=on_breach,
                scope=item.scope,
            )
            view = cast("Callable[P, R]", limit(view))  # None only for a blueprint
        return view

    return decorate


def _secret() -> str:
    return str(current_app.config["SECRET_KEY"])


def _tag(email: str) -> str:
    return hmac.new(_secret().encode(), email.encode(), hashlib.sha256).hexdigest()[:24]


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(_secret(), salt="known-accounts")


def _known_tags() -> list[str]:
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return []
    try:
        tags = _serializer().loads(raw)
    except BadSignature:
        return []
    return [tag for tag in tags if isinstance(tag, str)] if isinstance(tags, list) else []


def known_device() -> bool:
    """Whether this browser signed in to the account being tried before."""
    email = _email()
    return bool(email) and _tag(email) in _known_tags()


def remember_device(response: Response, email: str) -> None:
    """Mark this browser as one the account's owner signs in with."""
    tag = _tag(normalize_email(email))
    tags = [tag, *(t for t in _known_tags() if t != tag)][:DEVICE_COOKIE_ACCOUNTS]
    response.set_cookie(
        DEVICE_COOKIE,
        _serializer().dumps(tags),
        max_age=DEVICE_COOKIE_DAYS * 86400,
        path="/login",
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure,
    )


def mail_allowed(purpose: str, email: str) -> bool:
    """Count one e-mail of ``purpose`` to ``email``; False once ``ACCOUNT_MAIL_RATE_LIMIT``
    is reached."""
    config = current_app.config
    if not config["RATELIMIT_ENABLED"]:
        return True
    key = (config["RATELIMIT_KEY_PREFIX"], "account-mail", purpose, email)
    try:
        strategy = limiter.limiter
        limits = parse_many(config["ACCOUNT_MAIL_RATE_LIMIT"])
        if not all(strategy.test(item, *key) for item in limits):
            return False
        for item in limits:
            strategy.hit(item, *key)
    except Exception:
        log.warning("account mail limit not checked: the rate-limit storage failed")
    return True
