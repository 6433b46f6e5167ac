"""Forgot password: an address in, the same answer always, a reset link by e-mail."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address

from plugin.accounts.emails import send_reset_link
from plugin.accounts.forms import ForgotPasswordForm
from plugin.accounts.view_helpers import MAIL_FAILED, TOO_MANY, next_target, see_other
from plugin.config import text_setting
from plugin.database import commit
from plugin.extensions import limiter

bp = Blueprint("account_recovery", __name__)

SENT = (
    "If an account uses {email}, a link to choose a new password is on its way; it works "
    "once, for {minutes} minutes. Nothing there? Check your spam folder, or ask again."
)


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(
    text_setting("FORGOT_PASSWORD_RATE_LIMIT"),
    methods=["POST"],
    key_func=get_remote_address,
    error_message=TOO_MANY,
    scope="forgot-password-ip",
)
def forgot_password() -> ResponseReturnValue:
    target = next_target()
    form = ForgotPasswordForm(next=target)
    if form.validate_on_submit():
        sent = send_reset_link(form.email.data, return_to=target)
        commit()
        if not sent:
            # The same words for every address: the server refused whatever it was sent.
            form.email.errors.append(MAIL_FAILED)
        else:
            minutes = max(1, current_app.config["FORGOT_PASSWORD_TTL"] // 60)
            flash(SENT.format(email=form.email.data.strip(), minutes=minutes), "success")
            return see_other(url_for("account_recovery.forgot_password", next=target))
    return render_template("accounts/forgot.html", form=form, next=target)
