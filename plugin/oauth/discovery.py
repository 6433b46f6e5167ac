"""RFC 8414 authorization-server metadata: exactly what this server supports."""

from __future__ import annotations

from flask import Response, jsonify, url_for

from plugin.oauth.endpoints import INTROSPECTION_AUTH_METHODS
from plugin.oauth.grants import CLIENT_AUTH_METHODS
from plugin.oauth.scopes import scopes
from plugin.oauth.views import bp
from plugin.web import public_url


@bp.get("/.well-known/oauth-authorization-server")
def metadata() -> Response:
    return jsonify(
        {
            "issuer": public_url(),
            "authorization_endpoint": public_url(url_for("oauth.authorize")),
            "token_endpoint": public_url(url_for("oauth.issue_token")),
            "revocation_endpoint": public_url(url_for("oauth.revoke_token")),
            "introspection_endpoint": public_url(url_for("oauth.introspect_token")),
            "scopes_supported": list(scopes()),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
            "revocation_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
            "introspection_endpoint_auth_methods_supported": INTROSPECTION_AUTH_METHODS,
            "code_challenge_methods_supported": ["S256"],
        }
    )
