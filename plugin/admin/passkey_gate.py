"""Admin → Settings → "Require passkeys for admins", and the gate that enforces it.

With it on, an admin signed in with a password is signed in, but the admin area sends them
to sign in with a passkey (or, without one, to their account page to add one). Their own
passkeys then change only from a passkey session, so someone who learnt an admin's
password cannot swap in a passkey of their own. The operator's way back in, should every
admin lose their passkeys: ``flask --app plugin settings set require-admin-passkeys off``.
"""

from __future__ import annotations

from flask import Flask, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from plugin.accounts.hooks import add_passkey_rule
from plugin.accounts.models import User
from plugin.accounts.passkeys import has_passkeys
from plugin.accounts.sessions import get_current_user, signed_in_with
from plugin.admin.common import bp
from plugin.chatgpt.settings import REQUIRE_ADMIN_PASSKEYS, is_on

ADD_ONE = (
    "The admin area asks administrators to sign in with a passkey. Add one below, then sign "
    "in with it."
)
SIGN_IN_WITH_ONE = "The admin area asks administrators to sign in with a passkey. Use yours here."
KEEP_YOURS = (
    "Administrators must sign in with a passkey: sign in with one of yours before adding or "
    "removing passkeys."
)


def admin_passkeys_required() -> bool:
    return is_on(REQUIRE_ADMIN_PASSKEYS)


@bp.before_request
def _require_passkey() -> Response | None:
    user = get_current_user()
    if user is None or not user.is_admin or signed_in_with() == "passkey":
        return None  # admin_required answers visitors and non-admins
    if not admin_passkeys_required():
        return None
    if not has_passkeys(user):
        flash(ADD_ONE, "error")
        return redirect(url_for("accounts.account", _anchor="passkeys-heading"))
    flash(SIGN_IN_WITH_ONE, "error")
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


def _keep_admin_passkeys(user: User) -> str | None:
    if not user.is_admin or signed_in_with() == "passkey" or not has_passkeys(user):
        return None
    return KEEP_YOURS if admin_passkeys_required() else None


def init_app(app: Flask) -> None:
    add_passkey_rule(app, _keep_admin_passkeys)
