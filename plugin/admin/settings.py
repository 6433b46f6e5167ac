"""Admin → Settings: OpenAI's verification tokens (the manifest's, and the app directory's
domain challenge), and whether admins must sign in with a passkey."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, render_template, url_for
from flask.typing import ResponseReturnValue

from plugin.accounts.passkeys import has_passkeys
from plugin.accounts.sessions import (
    admin_required,
    get_current_user,
    signed_in_user,
    signed_in_with,
)
from plugin.accounts.upstream.client import configured_providers
from plugin.admin.common import bp, see_other
from plugin.admin.forms import (
    AdminPasskeysForm,
    AppsChallengeTokenForm,
    ConfirmForm,
    VerificationTokenForm,
)
from plugin.admin.passkey_gate import admin_passkeys_required
from plugin.chatgpt.settings import (
    APPS_CHALLENGE_TOKEN,
    REQUIRE_ADMIN_PASSKEYS,
    VERIFICATION_TOKEN,
    SettingError,
    default_for,
    get_setting,
    set_setting,
)
from plugin.database import commit
from plugin.extensions import db

ADD_A_PASSKEY_FIRST = (
    "Add a passkey on your account page and sign in with it first: with this on, the admin "
    "area opens only to admins signed in with a passkey, and you would be shut out."
)
SIGN_IN_WITH_IT_FIRST = (
    "Sign in with your passkey first (log out, then “Sign in with a passkey”): that shows "
    "passkeys work on this site before the admin area relies on them."
)


@dataclass(frozen=True)
class TokenSetting:
    key: str
    form: type[VerificationTokenForm]
    prefix: str
    saved: str


# The tokens this page sets, by the name in their URL (/admin/settings/<name>).
TOKENS = {
    "verification-token": TokenSetting(
        VERIFICATION_TOKEN,
        VerificationTokenForm,
        "",
        "The verification token is saved; the manifest now carries it.",
    ),
    "apps-challenge-token": TokenSetting(
        APPS_CHALLENGE_TOKEN,
        AppsChallengeTokenForm,
        "challenge",
        "The domain verification token is saved; /.well-known/openai-apps-challenge serves it.",
    ),
}


def _token_facts(name: str, form: VerificationTokenForm | None) -> dict[str, object]:
    setting = TOKENS[name]
    current = get_setting(setting.key)
    return {
        "name": name,
        "form": form or setting.form(prefix=setting.prefix),
        "current": current,
        "from_environment": current is not None and current == default_for(setting.key),
    }


def _settings_page(
    forms: dict[str, VerificationTokenForm] | None = None,
    passkeys_form: AdminPasskeysForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    required = admin_passkeys_required()
    return (
        render_template(
            "admin/settings.html",
            tokens={name: _token_facts(name, (forms or {}).get(name)) for name in TOKENS},
            clear_form=ConfirmForm(),
            passkeys_form=passkeys_form or AdminPasskeysForm(data={"require": required}),
            passkeys_required=required,
            upstream_providers=[p.describe() for p in configured_providers().values()],
        ),
        status,
    )


@bp.get("/settings")
@admin_required
def settings() -> ResponseReturnValue:
    return _settings_page()


@bp.post("/settings/<name>")
@admin_required
def settings_set_token(name: str) -> ResponseReturnValue:
    setting = TOKENS.get(name) or abort(404)
    form = setting.form(prefix=setting.prefix)
    if not form.validate_on_submit():
        return _settings_page({name: form}, status=400)
    try:
        set_setting(setting.key, form.token.data, actor=get_current_user())
    except SettingError as error:
        db.session.rollback()
        form.token.errors.append(str(error))
        return _settings_page({name: form}, status=400)
    commit()
    flash(setting.saved, "success")
    return see_other(url_for("admin.settings"))


@bp.post("/settings/<name>/clear")
@admin_required
def settings_clear_token(name: str) -> ResponseReturnValue:
    setting = TOKENS.get(name) or abort(404)
    set_setting(setting.key, None, actor=get_current_user())
    commit()
    flash("The stored token is cleared.", "success")
    return see_other(url_for("admin.settings"))


@bp.post("/settings/admin-passkeys")
@admin_required
def settings_admin_passkeys() -> ResponseReturnValue:
    form = AdminPasskeysForm()
    if not form.validate_on_submit():
        return _settings_page(passkeys_form=form, status=400)
    admin = signed_in_user()
    turn_on = bool(form.require.data)
    if turn_on and not admin_passkeys_required():
        # An admin who cannot sign in with a passkey would lock themselves out.
        if not has_passkeys(admin):
            form.require.errors.append(ADD_A_PASSKEY_FIRST)
        elif signed_in_with() != "passkey":
            form.require.errors.append(SIGN_IN_WITH_IT_FIRST)
        if form.require.errors:
            return _settings_page(passkeys_form=form, status=400)
    set_setting(REQUIRE_ADMIN_PASSKEYS, "on" if turn_on else "off", actor=admin)
    commit()
    if turn_on:
        flash("Admins now open the admin area only after signing in with a passkey.", "success")
    else:
        flash("Admins may open the admin area after signing in with a password again.", "success")
    return see_other(url_for("admin.settings"))
