"""What the account pages share: answering a form, the pending ``next`` target, wording."""

from __future__ import annotations

from flask import Blueprint, has_request_context, redirect, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from plugin.accounts.sessions import safe_next

bp = Blueprint("accounts", __name__)

# One wording for every limit, so that a 429 says nothing about whether an account exists.
TOO_MANY = "Too many attempts from here. Wait a minute, then try again."
MAIL_FAILED = (
    "We could not send the e-mail just now. Nothing was changed; try again in a few minutes."
)
FORM_EXPIRED = (
    "This form has expired or was not sent from this site. Check the fields and send it again."
)

TOKENS_REVOKED = (
    "Apps connected to your account (such as ChatGPT) were signed out too; "
    "they ask you to log in again the next time."
)


def see_other(target: str) -> Response:
    # 303 makes the browser follow with GET and never re-send the credentials (no 307).
    return redirect(target, code=303)


def next_target() -> str | None:
    """The local path to return to afterwards (an install waiting behind the login), from
    the form or the query; None if absent or not a local path."""
    target = request.form.get("next") or request.args.get("next")
    return safe_next(target, fallback="") or None


def pending_next() -> str | None:
    """``next_target()`` for every template: the site header's links and forms keep the
    pending install too (CONTRACT §8), not only the links a page writes itself."""
    if not has_request_context():
        return None
    try:
        return next_target()
    except HTTPException:
        # The error page of a body that was refused (too large, unreadable): its query
        # string still names the install.
        return safe_next(request.args.get("next"), fallback="") or None
