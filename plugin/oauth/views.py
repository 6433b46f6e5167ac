"""OAuth endpoints: authorize (with consent), token, revoke, introspect and metadata."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from authlib.oauth2 import OAuth2Error
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_limiter.util import get_remote_address

from plugin.accounts.models import User
from plugin.accounts.sessions import get_current_user, login_required
from plugin.accounts.views import register_account_panel, register_destination_namer
from plugin.audit.services import record
from plugin.extensions import csrf, db, limiter
from plugin.oauth.scopes import SCOPES, describe
from plugin.oauth.server import CLIENT_AUTH_METHODS, server
from plugin.oauth.services import (
    connected_apps,
    consent_covers,
    find_client,
    give_consent,
    revoke_consent,
)
from plugin.web import public_url

bp = Blueprint("oauth", __name__)


def _token_rate_limit() -> str:
    return current_app.config["TOKEN_RATE_LIMIT"]


def _client_auth_failure_limit() -> str:
    return current_app.config["CLIENT_AUTH_FAILURE_LIMIT"]


def _failed_client_auth(response: Response) -> bool:
    return response.status_code == 401


# Wrong client credentials are counted per address and answered with 429 once too many.
client_auth_failures = limiter.shared_limit(
    _client_auth_failure_limit,
    scope="oauth-client-auth",
    key_func=get_remote_address,
    deduct_when=_failed_client_auth,
)


def client_endpoint(view: Callable[[], Response]) -> Callable[[], Response]:
    """An endpoint clients call with their credentials: rate-limited, failures throttled,
    and exempt from CSRF (no cookie authenticates it)."""
    return csrf.exempt(limiter.limit(_token_rate_limit)(client_auth_failures(view)))


@bp.route("/oauth/authorize", methods=["GET", "POST"])
def authorize() -> Response | tuple[str, int] | str:
    user = get_current_user()
    try:
        grant = server.get_consent_grant(end_user=user)
    except OAuth2Error as error:
        return _authorization_error(error)
    if user is None:
        # Log in (or sign up from there) and come back to this very request.
        return redirect(url_for("accounts.login", next=request.full_path))
    client = grant.client
    scope = grant.request.scope or ""
    if request.method == "GET":
        if consent_covers(user, client, scope):
            return server.create_authorization_response(grant=grant, grant_user=user)
        return render_template(
            "oauth/consent.html", client=client, scopes=describe(scope), user=user
        )
    if request.form.get("decision") == "allow":
        give_consent(user, client, scope)
        return server.create_authorization_response(grant=grant, grant_user=user)
    record("consent.denied", actor=user, subject=f"client:{client.client_id}", scope=scope)
    db.session.commit()
    return server.create_authorization_response(grant=grant, grant_user=None)


def _authorization_error(error: OAuth2Error) -> Response | tuple[str, int]:
    if error.redirect_uri:
        # The client and redirect URI are known good: the client hears about the error.
        return server.handle_error_response(None, error)
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


def _endpoint_response(respond) -> Response:  # noqa: ANN001
    try:
        response = respond()
    except OAuth2Error as error:  # the body could not be read at all
        response = server.handle_error_response(None, error)
    if response.status_code == 200:
        db.session.commit()
    else:
        db.session.rollback()
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@bp.get("/.well-known/oauth-authorization-server")
def metadata() -> Response:
    """RFC 8414 metadata: exactly what this server supports."""
    return jsonify(
        {
            "issuer": public_url(),
            "authorization_endpoint": public_url(url_for("oauth.authorize")),
            "token_endpoint": public_url(url_for("oauth.issue_token")),
            "revocation_endpoint": public_url(url_for("oauth.revoke_token")),
            "introspection_endpoint": public_url(url_for("oauth.introspect_token")),
            "scopes_supported": list(SCOPES),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
            "revocation_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
            "introspection_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
            ],
            "code_challenge_methods_supported": ["S256"],
        }
    )


@register_destination_namer
def app_asking(next_target: str) -> str | None:
    """The name of the client whose authorization request waits behind a login."""
    parts = urlsplit(next_target)
    client_ids = parse_qs(parts.query).get("client_id", [])
    if parts.path != url_for("oauth.authorize") or len(client_ids) != 1:
        return None
    client = server.query_client(client_ids[0])
    return client.name if client else None


@register_account_panel
def connected_apps_panel(user: User) -> str:
    apps = [(consent, describe(consent.scope)) for consent in connected_apps(user)]
    return render_template("oauth/connected_apps.html", apps=apps)


@bp.post("/account/apps/<client_id>/revoke")
@login_required
def revoke_app(client_id: str) -> Response:
    user = get_current_user()
    client = find_client(client_id)
    if client is None or not any(c.client_id == client.id for c in connected_apps(user)):
        abort(404)
    revoke_consent(user, client)
    db.session.commit()
    flash(f"{client.name} can no longer use your account.", "success")
    return redirect(url_for("accounts.account"), code=303)
