"""Signing in with an upstream provider: start, and come back.

The pending ``next`` path (an install waiting behind the login) is kept in this browser's
session beside the state sent to the provider, and never read back from the provider. An
existing account under the provider's address is linked only after its owner signs in to
it on the spot (``link_views``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import (
    flash,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue

from plugin.accounts.models import User
from plugin.accounts.services import AccountError, create_user, get_user_by_email
from plugin.accounts.sessions import safe_next
from plugin.accounts.signin import sign_in
from plugin.accounts.upstream.client import (
    Identity,
    UpstreamError,
    finish,
)
from plugin.accounts.upstream.identities import (
    find_identity,
    link_identity,
    refusal,
    used,
)
from plugin.accounts.upstream.link_views import link_from_account, link_token
from plugin.accounts.upstream.providers import Provider
from plugin.accounts.upstream.view_helpers import (
    PENDING,
    bp,
    note_step,
    provider_named,
    refused,
    start_at,
)
from plugin.accounts.view_helpers import next_target, see_other
from plugin.clock import utcnow
from plugin.database import commit
from plugin.extensions import csrf, db


@bp.get("/login/with/<name>")
def start(name: str) -> ResponseReturnValue:
    return start_at(provider_named(name), "login", next_target())


@bp.get("/login/with/<name>/again")
def start_again(name: str) -> ResponseReturnValue:
    """Start once more after a refusal, asking the provider to let the person choose the
    account (or sign in afresh) rather than answer for the same one at once."""
    return start_at(provider_named(name), "login", next_target(), again=True)


# Apple answers with a cross-site POST (response_mode=form_post): the state, not a CSRF
# token, ties it to this browser, and the session cookie (SameSite=Lax) is not sent with
# it; a 303 to the same address with the answer as a GET brings the cookie.
@bp.route("/login/with/<name>/callback", methods=["GET", "POST"])
def callback(name: str) -> ResponseReturnValue:
    provider = provider_named(name)
    if request.method == "POST" and request.form.get("state") and PENDING not in session:
        answer = {k: v for k in ("code", "state", "error", "iss") if (v := request.form.get(k))}
        return see_other(f"{url_for('upstream.callback', name=name)}?{urlencode(answer)}")
    pending: dict[str, Any] | None = session.pop(PENDING, None)
    state = (request.form if request.method == "POST" else request.args).get("state")
    next_path = safe_next(pending.get("next"), "") or None if pending else None
    if pending is None or pending.get("provider") != name or pending.get("state") != state:
        return refused(provider, "state", next_path)
    linking = pending.get("intent") == "link"
    try:
        identity = finish(provider)
    except UpstreamError as error:
        return refused(provider, error.cause, next_path, error.detail, linking=linking)
    if linking:
        return link_from_account(provider, identity, pending.get("user_id"))
    return _sign_in(provider, identity, next_path)


csrf.exempt(callback)


def _sign_in(provider: Provider, identity: Identity, next_path: str | None) -> ResponseReturnValue:
    linked = find_identity(identity.provider, identity.subject)
    cause = refusal(provider, identity, linked=linked is not None)
    if cause:
        return refused(provider, cause, next_path, f"{cause}: {identity.email or 'no address'}")
    if linked is not None:
        user = db.get_or_404(User, linked.user_id)
        if user.is_disabled:
            return refused(provider, "disabled", next_path)
        used(linked, identity.email if identity.email_verified else None)
        note_step(provider, next_path, True, reason="signed in with a linked account", user=user)
        return sign_in(user, see_other(safe_next(next_path)), method="upstream")
    assert identity.email is not None  # refusal() let only a verified address through
    existing = get_user_by_email(identity.email)
    if existing is not None:
        note_step(
            provider, next_path, True, reason="an account has this address: asked to prove it"
        )
        commit()
        return see_other(url_for("upstream.link", t=link_token(identity, existing, next_path)))
    try:
        user = create_user(identity.email, None, method=f"upstream:{provider.name}")
    except AccountError as error:
        db.session.rollback()
        return refused(provider, "unverified", next_path, str(error))
    user.email_verified_at = utcnow()
    link_identity(user, identity, method="new account")
    note_step(provider, next_path, True, reason="a new account from a verified address", user=user)
    flash("Welcome! Your account is ready.", "success")
    return sign_in(user, see_other(safe_next(next_path)), method="upstream")
