"""Admin → Settings: the OpenAI verification token the manifest carries."""

from __future__ import annotations

from flask import current_app, flash, render_template, url_for
from flask.typing import ResponseReturnValue

from plugin.accounts.sessions import admin_required, get_current_user
from plugin.admin.common import bp, see_other
from plugin.admin.forms import ConfirmForm, VerificationTokenForm
from plugin.chatgpt.settings import (
    KNOWN_SETTINGS,
    VERIFICATION_TOKEN,
    SettingError,
    get_setting,
    set_setting,
)
from plugin.database import commit
from plugin.extensions import db


def _settings_page(
    form: VerificationTokenForm | None = None, status: int = 200
) -> ResponseReturnValue:
    current = get_setting(VERIFICATION_TOKEN)
    default = current_app.config.get(KNOWN_SETTINGS[VERIFICATION_TOKEN]) or None
    return (
        render_template(
            "admin/settings.html",
            form=form or VerificationTokenForm(),
            clear_form=ConfirmForm(),
            current=current,
            from_environment=current is not None and current == default,
        ),
        status,
    )


@bp.get("/settings")
@admin_required
def settings() -> ResponseReturnValue:
    return _settings_page()


@bp.post("/settings/verification-token")
@admin_required
def settings_set_verification_token() -> ResponseReturnValue:
    form = VerificationTokenForm()
    if not form.validate_on_submit():
        return _settings_page(form, 400)
    try:
        set_setting(VERIFICATION_TOKEN, form.token.data, actor=get_current_user())
    except SettingError as error:
        db.session.rollback()
        form.token.errors.append(str(error))
        return _settings_page(form, 400)
    commit()
    flash("The verification token is saved; the manifest now carries it.", "success")
    return see_other(url_for("admin.settings"))


@bp.post("/settings/verification-token/clear")
@admin_required
def settings_clear_verification_token() -> ResponseReturnValue:
    set_setting(VERIFICATION_TOKEN, None, actor=get_current_user())
    commit()
    flash("The stored verification token is cleared.", "success")
    return see_other(url_for("admin.settings"))
