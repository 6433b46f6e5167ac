"""Signing in and out: home, sign up, log in, log out, and the password a reset link sets."""

from __future__ import annotations

from flask import (
    Response,
    flash,
    make_response,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response as BaseResponse

from plugin.accounts.account_views import notify_of_password_change
from plugin.accounts.emails import send_verification
from plugin.accounts.forms import (
    PASSWORD_HINT,
    LoginForm,
    ResetPasswordForm,
    SignupForm,
)
from plugin.accounts.hooks import name_destination
from plugin.accounts.models import User
from plugin.accounts.services import (
    AccountError,
    EmailTaken,
    authenticate,
    create_user,
    find_password_reset,
    normalize_email,
    use_password_reset,
)
from plugin.accounts.sessions import (
    get_current_user,
    login_user,
    logout_user,
    safe_next,
)
from plugin.accounts.signin import sign_in
from plugin.accounts.throttle import (
    login_limits,
    remember_device,
    signup_limit,
)
from plugin.accounts.view_helpers import (
    FORM_EXPIRED,
    TOKENS_REVOKED,
    TOO_MANY,
    bp,
)
from plugin.accounts.view_helpers import next_target as _next_target
from plugin.accounts.view_helpers import see_other as _see_other
from plugin.audit.services import record
from plugin.database import commit
from plugin.extensions import db

LOGIN_FAILED = "The email or password is not correct."
WELCOME = "Welcome! Your account is ready."
SIGNUP_REFUSED = (
    "We could not create an account with this email. If you already have one, log in instead."
)


def _login_page(form: LoginForm, next_target: str | None, status: int = 200) -> Response:
    page = render_template(
        "accounts/login.html",
        form=form,
        next=next_target,
        destination=name_destination(next_target),
    )
    return make_response(page, status)


def _login_throttled(_limit: object) -> Response:
    # The login page itself, not a dead end: the pending install (``next``) survives.
    form = LoginForm(next=_next_target())
    form.password.errors = [TOO_MANY]
    return _login_page(form, _next_target(), 429)


@bp.errorhandler(CSRFError)
def _form_expired(error: CSRFError) -> Response | tuple[str, int]:
    """Show the login and sign-up forms again (with what was typed and the pending install)
    when their token is missing or stale, instead of a page that loses the install."""
    next_path = _next_target()
    if request.endpoint == "accounts.login":
        form = LoginForm(next=next_path)
        form.password.errors = [FORM_EXPIRED]
        return _login_page(form, next_path, 400)
    if request.endpoint == "accounts.signup":
        form = SignupForm(next=next_path)
        form.email.errors = [FORM_EXPIRED]
        return _signup_page(form, next_path), 400
    return render_template("errors/error.html", status=400, message=FORM_EXPIRED), 400


@bp.get("/")
def index() -> str:
    return render_template("index.html")


@bp.route("/login", methods=["GET", "POST"])
# Only failures count (plugin/accounts/throttle.py): signing in never uses up a limit.
@login_limits(on_breach=_login_throttled)
def login() -> ResponseReturnValue:
    next_target = _next_target()
    form = LoginForm(next=next_target)
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            return sign_in(user, _see_other(safe_next(next_target)))
        record("user.login_failed", email=normalize_email(form.email.data)[:254])
        commit()
        # Unknown email, wrong password and disabled account all get this same page.
        form.password.errors.append(LOGIN_FAILED)
    return _login_page(form, next_target)


def _signup_page(form: SignupForm, next_target: str | None) -> str:
    return render_template(
        "accounts/signup.html",
        form=form,
        next=next_target,
        destination=name_destination(next_target),
        password_hint=PASSWORD_HINT,
    )


@bp.route("/signup", methods=["GET", "POST"])
@signup_limit()
def signup() -> ResponseReturnValue:
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
            flash(WELCOME, "success")
            send_first_verification(user, next_target)
            response = _see_other(safe_next(next_target))
            remember_device(response, user.email)
            return response
    return _signup_page(form, next_target)


def send_first_verification(user: User, next_target: str | None) -> None:
    """E-mail a new account the link that verifies its address, and say whether it went."""
    try:
        sent = send_verification(user, return_to=next_target)
    except AccountError:
        sent = False
    commit()
    if sent:
        flash(f"We sent a link to {user.email} to verify your address.", "success")
    else:
        flash(
            "We could not send the e-mail that verifies your address just now; "
            "send it again from your account page in a few minutes.",
            "error",
        )


@bp.post("/logout")
def logout() -> BaseResponse:
    # CSRFProtect has already refused a missing or foreign token before this runs.
    user = get_current_user()
    if user is not None:
        record("user.logout", actor=user, subject=f"user:{user.id}")
    logout_user()
    commit()
    flash("You are logged out.", "success")
    # Logging out in the middle of an install (to switch account) leads to the login page.
    target = _next_target()
    return _see_other(
        url_for("accounts.login", next=target) if target else url_for("accounts.index")
    )


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> ResponseReturnValue:
    reset = find_password_reset(token)
    if reset is None:
        message = (
            "This reset link is invalid, expired or already used. Ask for a new one from the "
            "login page (“Forgot your password?”) or from an admin."
        )
        return render_template("errors/error.html", status=404, message=message), 404
    form = ResetPasswordForm()
    if form.validate_on_submit():
        return_to = reset.return_to
        try:
            user = use_password_reset(token, form.password.data)
        except AccountError as error:
            db.session.rollback()
            form.password.errors.append(str(error))
        else:
            commit()
            flash("Your new password is set. Log in with it now. " + TOKENS_REVOKED, "success")
            notify_of_password_change(user)
            return _see_other(url_for("accounts.login", next=safe_next(return_to, "") or None))
    owner = db.get_or_404(User, reset.user_id)
    return render_template(
        "accounts/reset.html",
        form=form,
        email=owner.email,
        first=not owner.has_password,
        password_hint=PASSWORD_HINT,
    )
