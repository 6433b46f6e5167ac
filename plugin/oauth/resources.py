"""The resources tokens are issued for (RFC 8707) and the guard of a resource server (RFC 9728).

A token is bound to one resource, its audience: ``https://<host>/mcp`` for MCP clients that
ask for it, or none at all for GPT Actions and plugins, whose tokens work at ``/api`` only.
``require_resource_token`` is the guard a resource's view calls; its refusals carry the
challenge MCP clients read to find this server (``resource_metadata`` and ``scope``). Each
guard announces what it decided (``refused_at_resource``, ``accepted_at_resource``);
connection traces listen, as the tokens listen to ``user_disabled``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from authlib.oauth2 import OAuth2Error
from blinker import Namespace
from flask import Flask, Response, current_app, g, has_request_context, jsonify, request
from werkzeug.exceptions import HTTPException

from plugin.audit.services import record
from plugin.database import write_apart
from plugin.oauth.lookup import PresentedToken, find_access_token
from plugin.oauth.scopes import ordered, scopes

MCP_PATH = "/mcp"
API_PATH = "/api"
PRM_PATH = "/.well-known/oauth-protected-resource"

_signals = Namespace()
#: Sent with ``token``, ``presented_at`` (the resource URL) and ``needed`` (missing scopes)
#: when a known token is refused at a resource.
refused_at_resource = _signals.signal("token-refused")
#: Sent with ``token`` and ``presented_at`` when a token is accepted at a resource.
accepted_at_resource = _signals.signal("token-accepted")


class InvalidTargetError(OAuth2Error):
    """RFC 8707 §2: the requested resource is unknown, or not the one this grant is for."""

    error = "invalid_target"
    status_code = 400


def _base_url(app: Flask | None) -> str:
    base = (app or current_app).config["PLUGIN_BASE_URL"]
    if base:
        return str(base).rstrip("/")
    if not has_request_context():
        raise RuntimeError("PLUGIN_BASE_URL must be set to build a resource URL outside a request")
    return request.host_url.rstrip("/")


def mcp_resource(app_or_none: Flask | None = None) -> str:
    """The canonical resource URL of the MCP endpoint, ``https://<host>/mcp``, no trailing slash."""
    return _base_url(app_or_none) + MCP_PATH


def api_resource(app_or_none: Flask | None = None) -> str:
    """The API's resource URL; tokens issued without ``resource`` are for it."""
    return _base_url(app_or_none) + API_PATH


def metadata_url(resource_path: str = MCP_PATH) -> str:
    """The RFC 9728 path-form metadata URL of the resource at ``resource_path``."""
    return _base_url(None) + PRM_PATH + resource_path


def mcp_enabled(app: Flask | None = None) -> bool:
    return bool((app or current_app).config["MCP_ENABLED"])


def canonical(uri: str) -> str:
    """``uri`` with scheme and host lower-cased, default port and trailing slash dropped."""
    parts = urlsplit(uri.strip())
    host = (parts.hostname or "").lower()
    default_port = {"https": 443, "http": 80}.get(parts.scheme.lower())
    netloc = host if parts.port in (None, default_port) else f"{host}:{parts.port}"
    return urlunsplit((parts.scheme.lower(), netloc, parts.path.rstrip("/"), parts.query, ""))


def resolve_resource(values: list[str]) -> str | None:
    """The audience for the ``resource`` parameters of a request: None for the API.

    Raises InvalidTargetError for anything this server does not serve. One resource per
    grant: clients of this server ask for one endpoint at a time.
    """
    if not values:
        return None
    if len(values) > 1:
        raise InvalidTargetError("Ask for one 'resource' at a time.")
    value = values[0]
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise InvalidTargetError("'resource' must be an absolute URL.") from None
    if not parts.scheme or not parts.netloc or parts.fragment or "#" in value:
        raise InvalidTargetError("'resource' must be an absolute URL without a fragment.")
    wanted = canonical(value)
    if mcp_enabled() and wanted == canonical(mcp_resource()):
        return mcp_resource()
    if wanted in (canonical(api_resource()), canonical(_base_url(None))):
        return None
    raise InvalidTargetError(f"This server issues no tokens for the resource {value!r}.")


def resource_name(resource: str | None) -> str:
    return resource or api_resource()


class ResourceRefused(HTTPException):
    """A refused call to a protected resource; the response carries the challenge."""

    def __init__(self, response: Response) -> None:
        super().__init__(response=response)
        self.code = response.status_code


def challenge(
    status: int, error: str | None, description: str, needed: list[str], resource_path: str
) -> ResourceRefused:
    """A 401/403 whose ``WWW-Authenticate`` tells the client where to authorize and for what.

    ``error`` None: the request carried no token, and RFC 6750 §3.1 wants no error code then.
    """
    scope = ordered(needed) or " ".join(scopes())
    attributes = [f'resource_metadata="{metadata_url(resource_path)}"']
    if scope:
        attributes.append(f'scope="{scope}"')
    if error is not None:
        attributes += [f'error="{error}"', f'error_description="{description}"']
    response = jsonify({"error": error or "unauthorized", "error_description": description})
    response.status_code = status
    response.headers["WWW-Authenticate"] = "Bearer " + ", ".join(attributes)
    response.headers["Cache-Control"] = "no-store"
    return ResourceRefused(response)


def bearer_from_header() -> str | None:
    """The bearer token of the Authorization header; the query string is never read."""
    kind, _, value = request.headers.get("Authorization", "").partition(" ")
    value = value.strip()
    return value if kind.lower() == "bearer" and value else None


def refuse_audience(token: PresentedToken, presented_at: str) -> None:
    """Record a token used at a resource it was not issued for; the refusal must be kept."""
    audience = resource_name(token.resource)

    def keep(_succeeded: bool) -> None:
        # The request ends in an error, which discards its own writes: this one stays.
        record(
            "token.audience_refused",
            subject=f"user:{token.user_id}",
            client=token.client.client_id,
            audience=audience,
            presented_at=presented_at,
        )

    write_apart(keep)
    refused_at_resource.send(token, presented_at=presented_at, needed=None)


def require_resource_token(resource: str, scopes: list[str]) -> PresentedToken:
    """Authenticate the call's bearer token for ``resource`` with every scope in ``scopes``.

    Raises an HTTPException answering 401 ``invalid_token`` or 403 ``insufficient_scope``
    with the RFC 9728 challenge. On success the token is what ``current_token`` reads.
    """
    path = urlsplit(resource).path or MCP_PATH
    value = bearer_from_header()
    if value is None:
        raise challenge(401, None, "An access token is required.", scopes, path)
    token = find_access_token(value)
    if token is not None and not token.is_active():
        refused_at_resource.send(token, presented_at=resource, needed=None)
    if token is None or not token.is_active():
        raise challenge(
            401, "invalid_token", "The access token is expired, revoked or unknown.", scopes, path
        )
    if token.resource != resource:
        refuse_audience(token, resource)
        raise challenge(
            401, "invalid_token", "The access token was issued for another resource.", scopes, path
        )
    missing = [name for name in scopes if name not in token.scope.split()]
    if missing:
        refused_at_resource.send(token, presented_at=resource, needed=missing)
        raise challenge(
            403,
            "insufficient_scope",
            "The access token lacks a scope this call needs.",
            scopes,
            path,
        )
    g.authlib_server_oauth2_token = token
    accepted_at_resource.send(token, presented_at=resource)
    return token


def protected_resource_metadata(resource: str) -> dict[str, Any]:
    """The RFC 9728 document for ``resource``."""
    return {
        "resource": resource,
        "authorization_servers": [_base_url(None)],
        "scopes_supported": list(scopes()),
        "bearer_methods_supported": ["header"],
        "resource_name": current_app.config["PLUGIN_NAME_FOR_HUMAN"],
    }
