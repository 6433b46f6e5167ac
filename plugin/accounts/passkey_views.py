"""Passkey pages and the JSON steps ``static/passkeys.js`` takes for them.

Signing up with a passkey, adding one and signing in with one are two POSTs each (options,
then the browser's answer), JSON in and out, CSRF token in the ``X-CSRFToken`` header; every
refusal is ``{"error", "error_description", "field"}`` for the page to show beside the button
or field.
Renaming and removing are plain forms on the account page.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, g, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_limiter import RouteLimit
from flask_limiter.util import get_remote_address

from plugin.accounts import passkey_signup
from plugin.accounts.account_views import account_page
from plugin.accounts.ceremonies import PasskeyError
from plugin.accounts.emails import notify_passkey_added
from plugin.accounts.forms import (
    AddPasskeyForm,
    RemovePasskeyForm,
    RenamePasskeyForm,
    SignupEmailForm,
)
from plugin.accounts.models import Passkey, User
from plugin.accounts.passkey_checks import (
    add_passkey,
    registration_options,
    sign_in_options,
    verify_sign_in,
)
from plugin.accounts.passkeys import find_passkey, list_passkeys, remove_passkey, rename_passkey
from plugin.accounts.reauth import reauthentication_for
from plugin.accounts.services import AccountError, EmailTaken
from plugin.accounts.sessions import get_current_user, login_required, safe_next, signed_in_user
from plugin.accounts.signin import sign_in
from plugin.accounts.signin_views import SIGNUP_REFUSED, WELCOME, send_first_verification
from plugin.accounts.throttle import password_check_limit, refused_password, signup_limit
from plugin.accounts.view_helpers import TOO_MANY, see_other
from plugin.audit.services import record
from plugin.config import text_setting
from plugin.database import commit
from plugin.errors import json_error
from plugin.extensions import db, limiter

bp = Blueprint("passkeys", __name__)

# The JSON steps: errors there are JSON too (plugin.paths "machine").
JSON_PATHS = (
    "/signup/passkey/options",
    "/signup/passkey",
    "/login/passkey/options",
    "/login/passkey",
    "/account/passkeys/options",
    "/account/passkeys",
)
SIGNED_OUT = "You are signed out. Log in again, then add the passkey."
NOT_JSON = "The page sent something this site does not understand. Reload it and try again."


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise PasskeyError(NOT_JSON, "not_json")
    return data


def _refused(error: PasskeyError, status: int = 400) -> Response:
    # Commit what the refusal did: the spent challenge stays spent, the event is kept.
    commit()
    return json_error(status, str(error), field=error.field or "passkey")


def _prompt_limit() -> RouteLimit:
    # Each prompt stores a challenge row until it expires: a flood from one address stops.
    return limiter.limit(
        text_setting("PASSKEY_RATE_LIMIT"),
        key_func=get_remote_address,
        error_message=TOO_MANY,
        scope="passkey-prompts-ip",
    )


@bp.post("/login/passkey/options")
@_prompt_limit()
def login_options() -> ResponseReturnValue:
    options = sign_in_options()
    commit()
    return jsonify(options=options)


def _failed_sign_in(response: Response) -> bool:
    return response.status_code == 400


@bp.post("/login/passkey")
# Only refusals count, as for the password form (plugin/accounts/throttle.py).
@limiter.limit(
    text_setting("LOGIN_RATE_LIMIT"),
    key_func=get_remote_address,
    deduct_when=_failed_sign_in,
    error_message=TOO_MANY,
    scope="passkey-login-ip",
)
def login_with_passkey() -> ResponseReturnValue:
    try:
        body = _body()
        signed_in = verify_sign_in(body.get("credential"))
    except PasskeyError as error:
        # Nothing was written but the spent challenge, which must stay spent: no rollback.
        record(
            "user.passkey_login_failed",
            actor=error.user,
            subject=f"user:{error.user.id}" if error.user else None,
            reason=error.reason,
        )
        return _refused(error)
    next_path = body.get("next")
    target = safe_next(next_path if isinstance(next_path, str) else None)
    return sign_in(signed_in.user, jsonify(redirect=target), method="passkey")


@bp.post("/signup/passkey/options")
@_prompt_limit()
@signup_limit()
def signup_options() -> ResponseReturnValue:
    try:
        email = _body().get("email")
    except PasskeyError as error:
        return _refused(error)
    # The password sign-up's form checks the address; the CSRF token came in the header.
    form = SignupEmailForm(
        formdata=None, data={"email": email if isinstance(email, str) else ""}, meta={"csrf": False}
    )
    if not form.validate():
        return json_error(400, " ".join(form.email.errors), field="email")
    try:
        options = passkey_signup.signup_options(form.email.data)
    except EmailTaken:
        # The password sign-up's words for a taken address, and nothing more.
        return json_error(400, SIGNUP_REFUSED, field="email")
    commit()
    return jsonify(options=options)


@bp.post("/signup/passkey")
def signup_with_passkey() -> ResponseReturnValue:
    # One answer per challenge, and each challenge counted by SIGNUP_RATE_LIMIT above.
    try:
        body = _body()
        user, _passkey = passkey_signup.create_account_with_passkey(body.get("credential"))
    except PasskeyError as error:
        # Nothing was stored but the spent challenge, which must stay spent: no rollback.
        record("user.passkey_signup_failed", reason=error.reason)
        return _refused(error)
    except AccountError as error:
        # Taken since the options were given (two sign-ups at once): the same words again.
        record("user.passkey_signup_failed", reason="email")
        commit()
        words = SIGNUP_REFUSED if isinstance(error, EmailTaken) else str(error)
        return json_error(400, words, field="email")
    next_path = body.get("next")
    next_target = safe_next(next_path if isinstance(next_path, str) else None, "") or None
    # Where a password sign-up lands: the pending install (its consent), else the account.
    response = sign_in(user, jsonify(redirect=safe_next(next_target)), method="passkey")
    flash(WELCOME, "success")  # after sign_in, which starts a fresh session
    send_first_verification(user, next_target)
    return response


@bp.post("/account/passkeys/options")
@_prompt_limit()
@password_check_limit("passkey-add-ip", refused=refused_password)
def add_options() -> ResponseReturnValue:
    user = get_current_user()
    if user is None:
        return json_error(401, SIGNED_OUT, field="passkey")
    try:
        body = _body()
        options = registration_options(user, body.get("name"), body.get("password"))
    except PasskeyError as error:
        # 403 for a wrong password: password_check_limit counts those tries.
        return _refused(error, 403 if error.reason == "password" else 400)
    commit()
    return jsonify(options=options)


@bp.post("/account/passkeys")
def add() -> ResponseReturnValue:
    user = get_current_user()
    if user is None:
        return json_error(401, SIGNED_OUT, field="passkey")
    try:
        passkey = add_passkey(user, _body().get("credential"))
    except PasskeyError as error:
        # The new row was only ever in a savepoint; the spent challenge must stay spent.
        record(
            "user.passkey_add_failed", actor=user, subject=f"user:{user.id}", reason=error.reason
        )
        return _refused(error)
    commit()
    flash(
        f"Passkey “{passkey.name}” added. Next time, sign in with it instead of your password.",
        "success",
    )
    if not notify_passkey_added(user, passkey.name):
        flash("We could not send you the e-mail telling of this passkey.", "error")
    commit()
    return jsonify(redirect=url_for("accounts.account", _anchor="passkeys-heading"))


def _owned(passkey_id: int) -> tuple[User, Passkey]:
    user = signed_in_user()
    passkey = find_passkey(user, passkey_id)
    if passkey is None:
        abort(404)
    return user, passkey


def _prefix(passkey: Passkey) -> str:
    return f"passkey-{passkey.id}"


def _page_with(passkey: Passkey, form: RenamePasskeyForm | RemovePasskeyForm) -> str:
    """The account page again, with ``form`` (and its errors) in ``passkey``'s row."""
    g.passkey_forms = {(passkey.id, type(form).__name__): form}
    return account_page()


@bp.post("/account/passkeys/<int:passkey_id>/rename")
@login_required
def rename(passkey_id: int) -> ResponseReturnValue:
    user, passkey = _owned(passkey_id)
    form = RenamePasskeyForm(prefix=_prefix(passkey))
    if not form.validate_on_submit():
        return _page_with(passkey, form), 400
    try:
        rename_passkey(user, passkey, form.name.data)
    except PasskeyError as error:
        db.session.rollback()
        form.name.errors.append(str(error))
        return _page_with(passkey, form), 400
    commit()
    flash(f"The passkey is now called “{passkey.name}”.", "success")
    return see_other(url_for("accounts.account", _anchor="passkeys-heading"))


@bp.post("/account/passkeys/<int:passkey_id>/remove")
@login_required
@password_check_limit("passkey-remove-ip")
def remove(passkey_id: int) -> ResponseReturnValue:
    user, passkey = _owned(passkey_id)
    form = RemovePasskeyForm(prefix=_prefix(passkey))
    if not form.validate_on_submit():
        return _page_with(passkey, form)
    name = passkey.name
    try:
        remove_passkey(user, passkey, form.password.data)
    except PasskeyError as error:
        db.session.rollback()
        form.password.errors.append(str(error))
        # 200, the form shown again: password_check_limit counts it as a wrong password.
        return _page_with(passkey, form)
    commit()
    flash(f"Passkey “{name}” removed; it no longer opens your account.", "success")
    return see_other(url_for("accounts.account", _anchor="passkeys-heading"))


def passkeys_panel(user: User) -> str:
    """The account page's "Passkeys" section."""
    sent: dict[tuple[int, str], Any] = g.get("passkey_forms", {})
    rows = []
    for passkey in list_passkeys(user):
        prefix = _prefix(passkey)
        rename_form = sent.get((passkey.id, "RenamePasskeyForm")) or RenamePasskeyForm(
            prefix=prefix, formdata=None, data={"name": passkey.name}
        )
        remove_form = sent.get((passkey.id, "RemovePasskeyForm")) or RemovePasskeyForm(
            prefix=prefix, formdata=None
        )
        rows.append((passkey, rename_form, remove_form))
    return render_template(
        "accounts/_passkeys.html",
        rows=rows,
        add_form=AddPasskeyForm(),
        reauth=reauthentication_for(user, url_for("accounts.account")),
    )
