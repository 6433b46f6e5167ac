"""Discovery documents: RFC 8414 authorization-server metadata and RFC 9728 protected-resource
metadata, exactly what this server supports.

No ``/.well-known/openid-configuration``: this server issues no ID tokens and has no
userinfo or JWKS endpoint, so a document there would be half-valid, and clients that probe it
(ChatGPT, the MCP SDK) fall back to RFC 8414 on a 404.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, jsonify, url_for

from plugin.oauth.resources.audiences import (
    API_PATH,
    MCP_PATH,
    PRM_PATH,
    api_resource,
    mcp_enabled,
    mcp_resource,
    protected_resource_metadata,
)
from plugin.oauth.scopes import scopes
from plugin.oauth.server.endpoints import INTROSPECTION_AUTH_METHODS
from plugin.oauth.server.grants import CLIENT_AUTH_METHODS
from plugin.oauth.views import bp
from plugin.web import public_url


def authorization_server_metadata() -> dict[str, Any]:
    config = current_app.config
    document: dict[str, Any] = {
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
        # RFC 9207: every authorization response, errors included, carries ``iss``.
        "authorization_response_iss_parameter_supported": True,
        "client_id_metadata_document_supported": bool(config["OAUTH_CIMD_ENABLED"]),
    }
    if config["OAUTH_DCR_ENABLED"]:
        document["registration_endpoint"] = public_url(url_for("oauth.register_client"))
    return document


@bp.get("/.well-known/oauth-authorization-server")
def metadata() -> Response:
    return jsonify(authorization_server_metadata())


@bp.get(PRM_PATH)
@bp.get(PRM_PATH + MCP_PATH)
def mcp_resource_metadata() -> Response:
    # The root form names the MCP endpoint too: it is the resource clients discover.
    if not mcp_enabled():
        abort(404)
    return jsonify(protected_resource_metadata(mcp_resource()))


@bp.get(PRM_PATH + API_PATH)
def api_resource_metadata() -> Response:
    return jsonify(protected_resource_metadata(api_resource()))
