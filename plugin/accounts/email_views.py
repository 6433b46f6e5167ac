"""Verified addresses and changing one: the links people receive and the pages around them."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, render_template, url_for
from flask.typing import ResponseReturnValue

from plugin.accounts.account_views import account_page
from plugin.accounts.emails import (
    LINK_INVALID,
    confirm_email_change,
    find_email_change,
    notify_email_changed,
    request_email_change,
    send_verification,
    verify_email,
)
from plugin.accounts.forms import ChangeEmailForm, NextForm
from plugin.accounts.services import AccountError, NotReauthenticated
from plugin.accounts.sessions import get_current_user, login_required, safe_next, signed_in_user
from plugin.accounts.view_helpers import MAIL_FAILED, next_target, see_other
from plugin.database import commit
from plugin.extensions import db

bp = Blueprint("account_email", __name__)


def _link_refused(error: AccountError) -> tuple[str, int]:
    message = f"{error} Ask for a new one from your account page."
    return render_template("errors/error.html", status=404, message=message), 404


@bp.get("/verify-email")
@login_required
def verification_needed() -> ResponseReturnValue:
    """Where an install waits until the person has verified their address."""
    user = signed_in_user()
    target = next_target()
    if user.email_verified_at is not None:
        return see_other(safe_next(target))
    return render_template(
        "accounts/verify_needed.html", user=user, form=NextForm(next=target), next=target
    )


@bp.post("/verify-email/send")
@login_required
def send_verification_again() -> ResponseReturnValue:
    user = signed_in_user()
    form = NextForm()
    target = next_target()
    back = url_for("account_email.verification_needed", next=target) if target else None
    if form.validate_on_submit() and user.email_verified_at is None:
        try:
            sent = send_verification(user, return_to=target)
        except AccountError as error:
            flash(str(error), "error")
        else:
            commit()
            if sent:
                flash(f"We sent a new link to {user.email}.", "success")
            else:
                flash(MAIL_FAILED, "error")
    return see_other(back or url_for("accounts.account"))


@bp.get("/verify-email/<token>")
def verify(token: str) -> ResponseReturnValue:
    try:
        user, return_to = verify_email(token)
    except AccountError as error:
        db.session.rollback()
        return _link_refused(error)
    commit()
    flash(f"Thank you: {user.email} is verified.", "success")
    signed_in = get_current_user()
    if signed_in is None or signed_in.id != user.id:
        return see_other(url_for("accounts.login", next=safe_next(return_to, "") or None))
    return see_other(safe_next(return_to))


@bp.post("/account/email")
@login_required
def change_email() -> ResponseReturnValue:
    user = signed_in_user()
    form = ChangeEmailForm()
    if not form.validate_on_submit():
        return account_page(email_form=form)
    try:
        sent = request_email_change(user, form.new_email.data, form.email_password.data)
    except AccountError as error:
        db.session.rollback()
        field = form.email_password if isinstance(error, NotReauthenticated) else form.new_email
        field.errors.append(str(error))
        return account_page(email_form=form)
    commit()
    if not sent:
        form.new_email.errors.append(MAIL_FAILED)
        return account_page(email_form=form)
    hours = max(1, current_app.config["EMAIL_CHANGE_TTL"] // 3600)
    flash(
        f"We sent a link to {form.new_email.data.strip()}. Your address changes when you open "
        f"it (within {hours} hours); until then, keep using {user.email}.",
        "success",
    )
    return see_other(url_for("accounts.account"))


@bp.route("/account/email/<token>", methods=["GET", "POST"])
def confirm_change(token: str) -> ResponseReturnValue:
    # A button, not the link itself: mail scanners that open links must not change anything.
    pending = find_email_change(token)
    if pending is None:
        return _link_refused(AccountError(LINK_INVALID))
    form = NextForm()
    if not form.validate_on_submit():
        return render_template("accounts/confirm_email.html", form=form, new_email=pending.email)
    try:
        user, old_email = confirm_email_change(token)
    except AccountError as error:
        db.session.rollback()
        return _link_refused(error)
    commit()
    flash(f"Your address is now {user.email}.", "success")
    if not notify_email_changed(user, old_email):
        flash("We could not send the notice to your old address.", "error")
    commit()
    return see_other(url_for("accounts.account"))
