"""Linking a provider to an existing account: from the account page (after the password
again), or on ``/login/with/link`` when an upstream sign-in found an account under its address
(after its owner signs in to it on the spot); and unlinking one.
"""

from __future__ import annotations

from flask import (
    current_app,
    flash,
    g,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from plugin.accounts.account_views import account_page
from plugin.accounts.forms import ConfirmForm
from plugin.accounts.models import User
from plugin.accounts.reauth import reauthentication_problem
from plugin.accounts.services import AccountError, authenticate
from plugin.accounts.sessions import get_current_user, login_required, safe_next, signed_in_at
from plugin.accounts.signin import sign_in
from plugin.accounts.throttle import password_check_limit
from plugin.accounts.upstream.client import (
    Identity,
    configured_providers,
)
from plugin.accounts.upstream.forms import LinkProviderForm
from plugin.accounts.upstream.identities import (
    link_identity,
    refusal,
    unlink_identity,
)
from plugin.accounts.upstream.providers import Provider, label_of
from plugin.accounts.upstream.steps import CAUSES
from plugin.accounts.upstream.view_helpers import bp, note_step, provider_named, refused, start_at
from plugin.accounts.view_helpers import see_other
from plugin.database import commit
from plugin.extensions import db

LINK_SALT = "upstream-link"
LINK_MAX_AGE = 600


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
    provider = provider_named(name)
    user = get_current_user()
    assert user is not None
    form = LinkProviderForm(prefix=f"link-{name}")
    if form.validate_on_submit():
        problem = reauthentication_problem(user, form.password.data)
        if problem is None:
            return start_at(provider, "link", url_for("accounts.account"))
        form.password.errors = [*form.password.errors, problem]
    g.upstream_link_form = (name, form)
    # 200, the page shown again: password_check_limit counts it as a wrong password.
    return account_page()


def link_from_account(provider: Provider, identity: Identity, user_id: int | None) -> Response:
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


def link_token(identity: Identity, user: User, next_path: str | None) -> str:
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
    provider = provider_named(name)
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
        note_step(provider, next_path, True, reason=f"linked after proof ({proved})", user=user)
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
