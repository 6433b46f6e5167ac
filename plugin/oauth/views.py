"""OAuth endpoints: authorize (with consent), token, revoke and introspect."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oidc.core.errors import (
    ConsentRequiredError,
    InteractionRequiredError,
    LoginRequiredError,
)
from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address

from plugin.accounts.sessions import get_current_user
from plugin.audit.services import record
from plugin.config import text_setting
from plugin.database import commit, discard_work
from plugin.extensions import csrf, limiter
from plugin.hosts import is_loopback_http
from plugin.oauth.clients.registration import (
    RegistrationError,
    register_dynamic_client,
    registration_response,
)
from plugin.oauth.consent import asks_every_time, describe_origin
from plugin.oauth.scopes import describe
from plugin.oauth.server.authorization import issuer, server
from plugin.oauth.services import consent_covers, give_consent
from plugin.oauth.traces.authorization import authorization_refused
from plugin.web import CSP

bp = Blueprint("oauth", __name__)


def _failed_client_auth(response: Response) -> bool:
    return response.status_code == 401


# Wrong client credentials are counted per address and answered with 429 once too many.
client_auth_failures = limiter.shared_limit(
    text_setting("CLIENT_AUTH_FAILURE_LIMIT"),
    scope="oauth-client-auth",
    key_func=get_remote_address,
    deduct_when=_failed_client_auth,
)


def client_endpoint(view: Callable[[], Response]) -> Callable[[], Response]:
    """An endpoint clients call with their credentials: rate-limited, failures throttled,
    and exempt from CSRF (no cookie authenticates it)."""
    limited: Callable[[], Response] = limiter.limit(text_setting("TOKEN_RATE_LIMIT"))(
        client_auth_failures(view)
    )
    exempted: Callable[[], Response] = csrf.exempt(limited)
    return exempted


@bp.route("/oauth/authorize", methods=["GET", "POST"])
def authorize() -> ResponseReturnValue:
    user = get_current_user()
    try:
        grant = server.get_consent_grant(end_user=user)
    except OAuth2Error as error:
        return _authorization_error(error)
    silent = _prompt_none()
    if silent is not None and not silent:
        return _refuse(grant, user, InvalidRequestError("prompt=none goes with no other value."))
    if user is None:
        if silent:
            return _refuse(grant, user, LoginRequiredError())
        # Log in (or sign up from there) and come back to this very request.
        return redirect(url_for("accounts.login", next=request.full_path))
    if current_app.config["REQUIRE_VERIFIED_EMAIL"] and user.email_verified_at is None:
        if silent:
            return _refuse(grant, user, InteractionRequiredError())
        # The consent waits for a verified address; the verification link comes back here.
        return redirect(url_for("account_email.verification_needed", next=request.full_path))
    client = grant.client
    scope = grant.request.scope or ""
    allowed_before = consent_covers(user, client, scope)
    needs_page = not allowed_before or asks_every_time(grant.redirect_uri)
    if request.method == "GET" and needs_page and silent:
        return _refuse(grant, user, ConsentRequiredError())
    if request.method == "GET" and needs_page:
        page = current_app.make_response(
            render_template(
                "oauth/consent.html",
                client=client,
                scopes=describe(scope),
                user=user,
                origin=describe_origin(client, grant.redirect_uri),
                allowed_before=allowed_before,
            )
        )
        return allow_form_redirect(page, grant.redirect_uri)
    if request.method == "GET" or request.form.get("decision") == "allow":
        if request.method == "POST":
            give_consent(user, client, scope)
        response: Response = server.create_authorization_response(grant=grant, grant_user=user)
    else:
        record("consent.denied", actor=user, subject=f"client:{client.client_id}", scope=scope)
        response = server.create_authorization_response(grant=grant, grant_user=None)
    # The consent and the code it produced are saved together, or neither is.
    commit()
    return response


def _prompt_none() -> bool | None:
    """Whether the client asked for no page at all (OpenID Connect ``prompt=none``): True,
    False when ``none`` comes with other values (a malformed request), None when not asked."""
    values = request.args.get("prompt", "").split()
    if "none" not in values:
        return None
    return values == ["none"]


def _refuse(grant: Any, user: Any, error: OAuth2Error) -> ResponseReturnValue:
    """Answer the client at its checked redirect URI instead of showing a page."""
    error.redirect_uri = grant.redirect_uri
    error.state = grant.request.payload.state
    authorization_refused(error, user)
    return _authorization_error(error)


def allow_form_redirect(page: Response, redirect_uri: str | None) -> Response:
    """Let the consent form's answer redirect to a desktop app's http loopback callback.

    Browsers apply the page's ``form-action`` to where the form's POST redirects; ``https:``
    covers web clients, a loopback callback needs its own origin named.
    """
    if is_loopback_http(redirect_uri):
        parts = urlsplit(redirect_uri or "")
        page.headers["Content-Security-Policy"] = CSP.replace(
            "form-action 'self' https:", f"form-action 'self' https: http://{parts.netloc}"
        )
    return page


def _authorization_error(error: OAuth2Error) -> ResponseReturnValue:
    if error.redirect_uri:
        # The client and redirect URI are known good: the client hears about the error.
        redirected: Response = server.handle_error_response(None, error)
        issuer.add_issuer_parameter(server, redirected)
        return redirected
    # Never redirect to a URI that was not checked; tell the person instead.
    return render_template("oauth/error.html", error=error), 400


@bp.post("/oauth/token")
@client_endpoint
def issue_token() -> Response:
    return _endpoint_response(server.create_token_response)


@bp.post("/oauth/revoke")
@client_endpoint
def revoke_token() -> Response:
    return _endpoint_response(lambda: server.create_endpoint_response("revocation"))


@bp.post("/oauth/introspect")
@client_endpoint
def introspect_token() -> Response:
    return _endpoint_response(lambda: server.create_endpoint_response("introspection"))


def _endpoint_response(respond: Callable[[], Response]) -> Response:
    try:
        response = respond()
    except OAuth2Error as error:  # the body could not be read at all
        response = server.handle_error_response(None, error)
    if response.status_code == 200:
        commit()
    else:
        discard_work()
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _error(status: int, error: str, description: str) -> Response:
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    return response


def register_client() -> Response:
    """RFC 7591 registration of a public client (``registration.register_dynamic_client``)."""
    if not current_app.config["OAUTH_DCR_ENABLED"]:
        response = _error(404, "not_found", "This server does not accept client registrations.")
    else:
        metadata = request.get_json(silent=True) if request.is_json else None
        try:
            client, _created = register_dynamic_client(metadata)
        except RegistrationError as error:
            response = _error(400, error.error, str(error))
        else:
            commit()
            response = jsonify(registration_response(client))
            # 201 for a repeat too: some clients accept nothing else.
            response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    return response


_limited_registration: Callable[[], Response] = limiter.limit(
    text_setting("REGISTRATION_RATE_LIMIT"), scope="oauth-register"
)(register_client)
bp.add_url_rule(
    "/oauth/register",
    endpoint="register_client",
    view_func=csrf.exempt(_limited_registration),
    methods=["POST"],
)
