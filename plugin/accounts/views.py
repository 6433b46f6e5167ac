"""Account pages: home, sign up, log in, log out, the account page and password resets."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_limiter.util import get_remote_address
from markupsafe import Markup

from plugin.accounts.forms import (
    PASSWORD_HINT,
    ChangePasswordForm,
    ConfirmForm,
    LoginForm,
    ResetPasswordForm,
    SignupForm,
)
from plugin.accounts.hooks import account_panels, name_destination
from plugin.accounts.models import User, UserSession
from plugin.accounts.services import (
    AccountError,
    EmailTaken,
    authenticate,
    change_password,
    create_user,
    find_password_reset,
    normalize_email,
    use_password_reset,
)
from plugin.accounts.sessions import (
    current_session_id,
    end_sessions,
    get_current_user,
    login_required,
    login_user,
    logout_user,
    safe_next,
)
from plugin.audit.services import record
from plugin.database import commit
from plugin.extensions import db, limiter

bp = Blueprint("accounts", __name__)

LOGIN_FAILED = "The email or password is not correct."
SIGNUP_REFUSED = (
    "We could not create an account with this email. If you already have one, log in instead."
)
# One wording for every limit, so that a 429 says nothing about whether an account exists.
TOO_MANY = "Too many attempts from here. Wait a minute, then try again."


def _see_other(target: str) -> Response:
    # 303 makes the browser follow with GET and never re-send the credentials (no 307).
    return redirect(target, code=303)


def _next_target() -> str | None:
    """The local path to return to after login or signup, from the form or the query."""
    target = request.form.get("next") or request.args.get("next")
    safe = safe_next(target, fallback="")
    return safe or None


def _login_account_key() -> str:
    return "login-account:" + normalize_email(request.form.get("email", ""))[:254]


def _config_limit(key: str) -> Callable[[], str]:
    return lambda: current_app.config[key]


@bp.get("/")
def index() -> str:
    return render_template("index.html")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    _config_limit("LOGIN_RATE_LIMIT"),
    methods=["POST"],
    key_func=get_remote_address,
    error_message=TOO_MANY,
    scope="login-ip",
)
@limiter.limit(
    _config_limit("LOGIN_ACCOUNT_RATE_LIMIT"),
    methods=["POST"],
    key_func=_login_account_key,
    error_message=TOO_MANY,
    scope="login-account",
)
def login() -> Response | str:
    next_target = _next_target()
    form = LoginForm(next=next_target)
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user)
            record("user.login", actor=user, subject=f"user:{user.id}")
            commit()
            return _see_other(safe_next(next_target))
        record("user.login_failed", email=normalize_email(form.email.data)[:254])
        commit()
        # Unknown email, wrong password and disabled account all get this same page.
        form.password.errors.append(LOGIN_FAILED)
    return render_template(
        "accounts/login.html",
        form=form,
        next=next_target,
        destination=name_destination(next_target),
    )


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(
    _config_limit("SIGNUP_RATE_LIMIT"),
    methods=["POST"],
    key_func=get_remote_address,
    error_message=TOO_MANY,
    scope="signup-ip",
)
def signup() -> Response | str:
    next_target = _next_target()
    form = SignupForm(next=next_target)
    if form.validate_on_submit():
        try:
            user = create_user(form.email.data, form.password.data)
        except EmailTaken:
            # Saying "already registered" would confirm the account to anyone; the person
            # who owns it knows to log in instead.
            db.session.rollback()
            form.email.errors.append(SIGNUP_REFUSED)
        except AccountError as error:
            db.session.rollback()
            form.email.errors.append(str(error))
        else:
            login_user(user)
            commit()
            flash("Welcome! Your account is ready.", "success")
            return _see_other(safe_next(next_target))
    return render_template(
        "accounts/signup.html",
        form=form,
        next=next_target,
        destination=name_destination(next_target),
        password_hint=PASSWORD_HINT,
    )


@bp.post("/logout")
def logout() -> Response:
    # CSRFProtect has already refused a missing or foreign token before this runs.
    user = get_current_user()
    if user is not None:
        record("user.logout", actor=user, subject=f"user:{user.id}")
    logout_user()
    commit()
    flash("You are logged out.", "success")
    return _see_other(url_for("accounts.index"))


def _account_page(password_form: ChangePasswordForm | None = None) -> str:
    user = get_current_user()
    sessions = db.session.scalars(
        sa.select(UserSession)
        .where(UserSession.user_id == user.id)
        .order_by(UserSession.last_seen_at.desc())
    ).all()
    panels = [Markup(html) for html in account_panels(user)]  # noqa: S704 - panels render templates
    return render_template(
        "accounts/account.html",
        user=user,
        password_form=password_form or ChangePasswordForm(user.email),
        sessions_form=ConfirmForm(),
        sessions=sessions,
        this_session_id=current_session_id(),
        panels=panels,
        password_hint=PASSWORD_HINT,
    )


@bp.get("/account")
@login_required
def account():
    return _account_page()


@bp.post("/account/password")
@login_required
@limiter.limit(
    _config_limit("LOGIN_RATE_LIMIT"),
    key_func=get_remote_address,
    error_message=TOO_MANY,
    scope="password-change-ip",
)
def account_password():
    user = get_current_user()
    form = ChangePasswordForm(user.email)
    if not form.validate_on_submit():
        return _account_page(form)
    try:
        # Every session ends, this one included; a fresh one replaces it below, so a copy
        # of the old cookie is worthless too.
        change_password(
            user, form.current_password.data, form.new_password.data, keep_session_id=None
        )
    except AccountError as error:
        db.session.rollback()
        form.current_password.errors.append(str(error))
        return _account_page(form)
    login_user(user)
    commit()
    flash("Your password is changed. Any other signed-in browsers were signed out.", "success")
    return _see_other(url_for("accounts.account"))


@bp.post("/account/sessions/end")
@login_required
def end_other_sessions() -> Response:
    user = get_current_user()
    if ConfirmForm().validate_on_submit():
        ended = end_sessions(user.id, keep_session_id=current_session_id())
        record("user.sessions_ended", actor=user, subject=f"user:{user.id}", count=ended)
        commit()
        flash(f"Signed out {ended} other session{'s' if ended != 1 else ''}.", "success")
    return _see_other(url_for("accounts.account"))


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    reset = find_password_reset(token)
    if reset is None:
        message = "This reset link is invalid, expired or already used. Ask an admin for a new one."
        return render_template("errors/error.html", status=404, message=message), 404
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            use_password_reset(token, form.password.data)
        except AccountError as error:
            db.session.rollback()
            form.password.errors.append(str(error))
        else:
            commit()
            flash("Your new password is set. Log in with it now.", "success")
            return _see_other(url_for("accounts.login"))
    user = db.session.get(User, reset.user_id)
    return render_template(
        "accounts/reset.html", form=form, email=user.email, password_hint=PASSWORD_HINT
    )
