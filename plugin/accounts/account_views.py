"""The account page: its sections, a new password, and signing other browsers out."""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    flash,
    render_template,
    url_for,
)
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse

from plugin.accounts.emails import notify_password_changed
from plugin.accounts.forms import (
    PASSWORD_HINT,
    ChangeEmailForm,
    ChangePasswordForm,
    ConfirmForm,
    DeleteAccountForm,
)
from plugin.accounts.hooks import account_panels
from plugin.accounts.models import User, UserSession
from plugin.accounts.reauth import reauthentication_for
from plugin.accounts.services import (
    AccountError,
    change_password,
)
from plugin.accounts.sessions import (
    current_session_id,
    end_sessions,
    login_required,
    login_user,
    signed_in_user,
    signed_in_with,
)
from plugin.accounts.throttle import (
    password_check_limit,
)
from plugin.accounts.view_helpers import TOKENS_REVOKED, bp
from plugin.accounts.view_helpers import see_other as _see_other
from plugin.audit.services import record
from plugin.database import commit
from plugin.extensions import db


def account_page(
    password_form: ChangePasswordForm | None = None,
    email_form: ChangeEmailForm | None = None,
    delete_form: DeleteAccountForm | None = None,
) -> str:
    user = signed_in_user()
    sessions = db.session.scalars(
        sa.select(UserSession)
        .where(UserSession.user_id == user.id)
        .order_by(UserSession.last_seen_at.desc())
    ).all()
    panels = [Markup(html) for html in account_panels(user)]  # noqa: S704 - panels render templates
    return render_template(
        "accounts/account.html",
        user=user,
        reauth=reauthentication_for(user, url_for("accounts.account")),
        password_form=password_form or ChangePasswordForm(user.email),
        email_form=email_form or ChangeEmailForm(),
        delete_form=delete_form or DeleteAccountForm(),
        sessions_form=ConfirmForm(),
        sessions=sessions,
        this_session_id=current_session_id(),
        panels=panels,
        password_hint=PASSWORD_HINT,
    )


@bp.get("/account")
@login_required
def account() -> ResponseReturnValue:
    return account_page()


@bp.post("/account/password")
@login_required
@password_check_limit("password-change-ip")
def account_password() -> ResponseReturnValue:
    user = signed_in_user()
    form = ChangePasswordForm(user.email)
    if not form.validate_on_submit():
        return account_page(form)
    method = signed_in_with() or "password"
    first = not user.has_password
    try:
        # Every session ends, this one included; a fresh one replaces it below, so a copy
        # of the old cookie is worthless too.
        change_password(
            user, form.current_password.data, form.new_password.data, keep_session_id=None
        )
    except AccountError as error:
        db.session.rollback()
        form.current_password.errors.append(str(error))
        return account_page(form)
    # Signed in with a passkey, still: the admin area's passkey rule keeps holding.
    login_user(user, method=method)
    commit()
    done = (
        "Your password is set: you can log in with it too."
        if first
        else "Your password is changed."
    )
    flash(f"{done} Any other signed-in browsers were signed out. {TOKENS_REVOKED}", "success")
    notify_of_password_change(user)
    return _see_other(url_for("accounts.account"))


@bp.post("/account/sessions/end")
@login_required
def end_other_sessions() -> BaseResponse:
    user = signed_in_user()
    if ConfirmForm().validate_on_submit():
        ended = end_sessions(user.id, keep_session_id=current_session_id())
        record("user.sessions_ended", actor=user, subject=f"user:{user.id}", count=ended)
        commit()
        flash(f"Signed out {ended} other session{'s' if ended != 1 else ''}.", "success")
    return _see_other(url_for("accounts.account"))


def notify_of_password_change(user: User) -> None:
    """E-mail the person that the password changed; say so on the page if that failed."""
    if not notify_password_changed(user):
        flash("We could not send you the e-mail telling of this change.", "error")
    commit()
