"""The resources tokens are issued for (RFC 8707): their URLs, the audience a request names,
and the RFC 9728 document that describes each.

A token is bound to one resource, its audience: ``https://<host>/mcp`` for MCP clients that
ask for it, or none at all for GPT Actions and plugins, whose tokens work at ``/api`` only.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from authlib.oauth2 import OAuth2Error, OAuth2Request
from flask import Flask, current_app, has_request_context, request

from plugin.oauth.scopes import scopes

MCP_PATH = "/mcp"
API_PATH = "/api"
PRM_PATH = "/.well-known/oauth-protected-resource"


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


def requested_resource(request: OAuth2Request) -> str | None:
    """The audience the request's RFC 8707 ``resource`` parameters ask for (None: the API)."""
    return resolve_resource(request.payload.datalist.get("resource", []))


def protected_resource_metadata(resource: str) -> dict[str, Any]:
    """The RFC 9728 document for ``resource``."""
    return {
        "resource": resource,
        "authorization_servers": [_base_url(None)],
        "scopes_supported": list(scopes()),
        "bearer_methods_supported": ["header"],
        "resource_name": current_app.config["PLUGIN_NAME_FOR_HUMAN"],
    }
