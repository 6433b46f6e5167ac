"""Download my data, and delete my account."""

from __future__ import annotations

import json

from flask import Blueprint, Response, flash, url_for
from flask.typing import ResponseReturnValue

from plugin.accounts.account_views import account_page
from plugin.accounts.forms import ConfirmForm, DeleteAccountForm
from plugin.accounts.lifecycle import delete_account, export_account
from plugin.accounts.services import AccountError
from plugin.accounts.sessions import login_required, logout_user, signed_in_user
from plugin.accounts.throttle import password_check_limit
from plugin.accounts.view_helpers import see_other
from plugin.database import commit
from plugin.extensions import db

bp = Blueprint("account_data", __name__)


@bp.post("/account/export")
@login_required
def export() -> ResponseReturnValue:
    if not ConfirmForm().validate_on_submit():
        return see_other(url_for("accounts.account"))
    user = signed_in_user()
    document = export_account(user)
    commit()
    response = Response(
        json.dumps(document, indent=2, ensure_ascii=False), mimetype="application/json"
    )
    response.headers["Content-Disposition"] = 'attachment; filename="my-account.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/account/delete")
@login_required
@password_check_limit("account-delete-ip")
def delete() -> ResponseReturnValue:
    user = signed_in_user()
    form = DeleteAccountForm()
    if not form.validate_on_submit():
        return account_page(delete_form=form)
    try:
        delete_account(user, form.delete_password.data)
    except AccountError as error:
        db.session.rollback()
        form.delete_password.errors.append(str(error))
        return account_page(delete_form=form)
    logout_user()
    commit()
    flash("Your account and everything in it are deleted. Goodbye!", "success")
    return see_other(url_for("accounts.index"))
