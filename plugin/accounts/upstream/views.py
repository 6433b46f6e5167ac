"""Signing in with an upstream provider: start, come back, and link an existing account.

The pending ``next`` path (an install waiting behind the login) is kept in this browser's
session beside the state sent to the provider, and never read back from the provider. An
existing account under the provider's address is linked only after its owner signs in to
it on the spot (``/login/with/link``): its password, or (where local sign-in is allowed)
its passkey through the login page, which returns to the link page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from plugin.accounts.forms import ConfirmForm
from plugin.accounts.models import User
from plugin.accounts.pages import next_target, see_other
from plugin.accounts.reauth import reauthentication_problem
from plugin.accounts.services import AccountError, authenticate, create_user, get_user_by_email
from plugin.accounts.sessions import get_current_user, login_required, safe_next, signed_in_at
from plugin.accounts.signin import sign_in
from plugin.accounts.throttle import password_check_limit
from plugin.accounts.upstream.client import (
    Identity,
    UpstreamError,
    authorization_url,
    configured_providers,
    finish,
)
from plugin.accounts.upstream.forms import LinkProviderForm
from plugin.accounts.upstream.identities import (
    find_identity,
    link_identity,
    refusal,
    unlink_identity,
    used,
)
from plugin.accounts.upstream.providers import Provider, label_of
from plugin.accounts.upstream.steps import CAUSES, upstream_step
from plugin.accounts.views import account_page
from plugin.audit.services import record
from plugin.clock import utcnow
from plugin.database import commit
from plugin.extensions import csrf, db

bp = Blueprint("upstream", __name__)

PENDING = "upstream_pending"
LINK_SALT = "upstream-link"
LINK_MAX_AGE = 600


def _provider(name: str) -> Provider:
    provider = configured_providers().get(name)
    if provider is None or current_app.config["SIGN_IN_METHODS"] == "local":
        abort(404)
    return provider


def _step(
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
    _step(provider, next_path, False, cause, detail or cause)
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


@bp.get("/login/with/<name>")
def start(name: str) -> ResponseReturnValue:
    return _start(_provider(name), "login", next_target())


@bp.get("/login/with/<name>/again")
def start_again(name: str) -> ResponseReturnValue:
    """Start once more after a refusal, asking the provider to let the person choose the
    account (or sign in afresh) rather than answer for the same one at once."""
    return _start(_provider(name), "login", next_target(), again=True)


def link_form(name: str) -> LinkProviderForm:
    """The account page's form to link provider ``name``, with its errors if it was sent."""
    sent: tuple[str, LinkProviderForm] | None = g.get("upstream_link_form")
    if sent is not None and sent[0] == name:
        return sent[1]
    return LinkProviderForm(prefix=f"link-{name}", formdata=None)


# Linking another way in is a consequential change (WL-13): the person proves again who they
# are, as for removing a passkey. Refused tries are throttled like a wrong password.
@bp.post("/account/upstream/link/<name>")
@login_required
@password_check_limit("upstream-link-start-ip")
def start_link(name: str) -> ResponseReturnValue:
    provider = _provider(name)
    user = get_current_user()
    assert user is not None
    form = LinkProviderForm(prefix=f"link-{name}")
    if form.validate_on_submit():
        problem = reauthentication_problem(user, form.password.data)
        if problem is None:
            return _start(provider, "link", url_for("accounts.account"))
        form.password.errors = [*form.password.errors, problem]
    g.upstream_link_form = (name, form)
    # 200, the page shown again: password_check_limit counts it as a wrong password.
    return account_page()


def _start(
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


# Apple answers with a cross-site POST (response_mode=form_post): the state, not a CSRF
# token, ties it to this browser, and the session cookie (SameSite=Lax) is not sent with
# it; a 303 to the same address with the answer as a GET brings the cookie.
@bp.route("/login/with/<name>/callback", methods=["GET", "POST"])
def callback(name: str) -> ResponseReturnValue:
    provider = _provider(name)
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
        return _link_from_account(provider, identity, pending.get("user_id"))
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
        _step(provider, next_path, True, reason="signed in with a linked account", user=user)
        return sign_in(user, see_other(safe_next(next_path)), method="upstream")
    assert identity.email is not None  # refusal() let only a verified address through
    existing = get_user_by_email(identity.email)
    if existing is not None:
        _step(provider, next_path, True, reason="an account has this address: asked to prove it")
        commit()
        return see_other(url_for("upstream.link", t=_link_token(identity, existing, next_path)))
    try:
        user = create_user(identity.email, None, method=f"upstream:{provider.name}")
    except AccountError as error:
        db.session.rollback()
        return refused(provider, "unverified", next_path, str(error))
    user.email_verified_at = utcnow()
    link_identity(user, identity, method="new account")
    _step(provider, next_path, True, reason="a new account from a verified address", user=user)
    flash("Welcome! Your account is ready.", "success")
    return sign_in(user, see_other(safe_next(next_path)), method="upstream")


def _link_from_account(provider: Provider, identity: Identity, user_id: int | None) -> Response:
    user = get_current_user()
    back = see_other(url_for("accounts.account"))
    if user is None or user.id != user_id:
        flash("Sign in to your account again, then link the other sign-in.", "error")
        return back
    cause = refusal(provider, identity, linked=False)
    if cause:
        return refused(provider, cause, None, cause, linking=True)
    try:
        link_identity(user, identity, method="signed in")
    except AccountError:
        db.session.rollback()
        return refused(provider, "linked_elsewhere", None, linking=True)
    commit()
    flash(f"You can now sign in with {provider.label} too.", "success")
    return back


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt=LINK_SALT)


def _link_token(identity: Identity, user: User, next_path: str | None) -> str:
    data = [identity.provider, identity.subject, identity.email, user.id, next_path]
    return _serializer().dumps(data)


@bp.route("/login/with/link", methods=["GET", "POST"])
@password_check_limit("upstream-link-ip")
def link() -> ResponseReturnValue:
    """Prove an existing account is yours, then link the provider's account to it."""
    try:
        data, issued = _serializer().loads(
            request.args.get("t", ""), max_age=LINK_MAX_AGE, return_timestamp=True
        )
        name, subject, email, user_id, next_path = data
    except (BadSignature, ValueError, TypeError):
        page = render_template("errors/error.html", status=400, message=CAUSES["state"].message)
        return page, 400
    provider = _provider(name)
    user = db.session.get(User, user_id)
    if user is None or user.is_disabled or user.email != email:
        return refused(provider, "state", next_path)
    identity = Identity(name, subject, email, True)
    form = ConfirmForm()
    error = None
    proved = None
    moment = signed_in_at()
    current = get_current_user()
    fresh = moment is not None and moment >= issued.replace(tzinfo=None)
    if current is not None and current.id == user.id and fresh:
        proved = "signed in"  # just signed in to it, on the login page (a passkey)
    elif request.method == "POST" and form.validate_on_submit():
        if authenticate(user.email, request.form.get("password", "")) is user:
            proved = "password"
        else:
            error = "The password is not correct."
    if proved:
        try:
            link_identity(user, identity, method=proved)
        except AccountError:
            db.session.rollback()
            return refused(provider, "linked_elsewhere", next_path)
        _step(provider, next_path, True, reason=f"linked after proof ({proved})", user=user)
        flash(f"Your {provider.label} account is linked: it signs you in from now on.", "success")
        return sign_in(user, see_other(safe_next(next_path)), method="upstream")
    page = render_template(
        "accounts/upstream_link.html",
        provider=provider,
        email=user.email,
        has_password=user.has_password,
        form=form,
        error=error,
        next=next_path,
        here=request.full_path.rstrip("?"),
        local_sign_in=current_app.config["SIGN_IN_METHODS"] != "upstream",
    )
    # A refused password shows the form again with 200, which the throttle counts.
    return page


@bp.post("/account/upstream/<int:identity_id>/unlink")
@login_required
def unlink(identity_id: int) -> ResponseReturnValue:
    user = get_current_user()
    assert user is not None
    if ConfirmForm().validate_on_submit():
        try:
            row = unlink_identity(user, identity_id)
        except AccountError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            commit()
            label = label_of(configured_providers(), row.provider)
            flash(f"{label} ({row.email}) no longer signs you in.", "success")
    return see_other(url_for("accounts.account"))
