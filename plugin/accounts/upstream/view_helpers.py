"""What the upstream sign-in pages share: their blueprint, the provider a URL names, the
step each sends to a connection trace, the refusal page, and the start at a provider."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from plugin.accounts.models import User
from plugin.accounts.sessions import get_current_user
from plugin.accounts.upstream.client import (
    UpstreamError,
    authorization_url,
    configured_providers,
)
from plugin.accounts.upstream.providers import Provider
from plugin.accounts.upstream.steps import CAUSES, upstream_step
from plugin.audit.services import record
from plugin.database import commit

bp = Blueprint("upstream", __name__)

PENDING = "upstream_pending"


def provider_named(name: str) -> Provider:
    provider = configured_providers().get(name)
    if provider is None or current_app.config["SIGN_IN_METHODS"] == "local":
        abort(404)
    return provider


def note_step(
    provider: Provider,
    next_path: str | None,
    ok: bool,
    cause: str | None = None,
    reason: str | None = None,
    user: User | None = None,
) -> None:
    upstream_step.send(
        provider.name,
        label=provider.label,
        next_target=next_path,
        ok=ok,
        cause=cause,
        reason=reason,
        fix=CAUSES[cause].fix if cause else None,
        user=user,
    )


def refused(
    provider: Provider,
    cause: str,
    next_path: str | None,
    detail: str = "",
    *,
    linking: bool = False,
) -> Response:
    """The page for a sign-in that did not work, with a way back into the same install (or,
    ``linking`` from the account page, back to it)."""
    note_step(provider, next_path, False, cause, detail or cause)
    record("user.upstream_refused", provider=provider.name, cause=cause)
    commit()
    words = CAUSES[cause]
    page = render_template(
        "accounts/upstream_error.html",
        title=words.title.format(provider=provider.label),
        message=words.message.format(provider=provider.label),
        provider=provider,
        next=next_path,
        linking=linking,
    )
    return make_response(page, words.status)


def start_at(
    provider: Provider, intent: str, next_path: str | None, *, again: bool = False
) -> ResponseReturnValue:
    callback = url_for("upstream.callback", name=provider.name, _external=True)
    try:
        url, state = authorization_url(provider, callback, again=again)
    except UpstreamError as error:
        linking = intent == "link"
        return refused(provider, error.cause, next_path, error.detail, linking=linking)
    user = get_current_user()
    session[PENDING] = {
        "state": state,
        "provider": provider.name,
        "next": next_path,
        "intent": intent,
        "user_id": user.id if user is not None and intent == "link" else None,
    }
    return redirect(url, code=303)
