"""The bearer check for ``/mcp``: one function, so the resource-bound check replaces it in one line.

``require_resource_token`` here is a stand-in for ``plugin.oauth.resources`` (audience-bound
tokens, RFC 8707): it authenticates the token through the API's own validator, scopes
included, but does not yet check that the token was issued for ``/mcp``. Its challenges
already have the shape RFC 9728 and the MCP clients expect.
"""

from __future__ import annotations

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6750 import InsufficientScopeError
from flask import abort, jsonify

from plugin.oauth.models import OAuthToken
from plugin.oauth.protect import require_oauth
from plugin.oauth.scopes import scopes as registered_scopes
from plugin.web import public_url

RESOURCE_PATH = "/mcp"
METADATA_PATH = "/.well-known/oauth-protected-resource" + RESOURCE_PATH


def mcp_resource() -> str:
    """The canonical URL of the MCP endpoint, e.g. ``https://todo.example.com/mcp``."""
    return public_url(RESOURCE_PATH)


def require_resource_token(resource: str, scopes: list[str]) -> OAuthToken:
    """Stand-in: the presented token if it is active and holds ``scopes``, else abort.

    Aborts with 401 and ``WWW-Authenticate: Bearer resource_metadata=…, scope=…`` for a
    missing or unusable token, 403 ``insufficient_scope`` naming ``scopes`` otherwise. The
    token becomes the request's ``current_token``. ``resource`` is not checked yet.
    """
    try:
        token: OAuthToken = require_oauth.acquire_token(scopes or None)
    except InsufficientScopeError:
        _challenge(403, "insufficient_scope", " ".join(scopes), "The token lacks a scope.")
    except OAuth2Error as error:
        wanted = " ".join(scopes) or " ".join(registered_scopes())
        description = "An access token is required."
        if error.error != "missing_authorization":
            description = "The access token is invalid, expired or revoked."
        _challenge(401, "invalid_token", wanted, description)
    return token


def _challenge(status: int, error: str, scope: str, description: str) -> None:
    metadata = public_url(METADATA_PATH)
    parts = [f'resource_metadata="{metadata}"', f'error="{error}"']
    if scope:
        parts.append(f'scope="{scope}"')
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    response.headers["WWW-Authenticate"] = "Bearer " + ", ".join(parts)
    abort(response)
