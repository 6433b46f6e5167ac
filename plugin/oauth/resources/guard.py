"""The guard of a resource server (RFC 9728): the bearer token a call to ``/mcp`` carries.

``require_resource_token`` is the guard a resource's view calls; its refusals carry the
challenge MCP clients read to find this server (``resource_metadata`` and ``scope``). Each
guard announces what it decided (``refused_at_resource``, ``accepted_at_resource``);
connection traces listen, as the tokens listen to ``user_disabled``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from blinker import Namespace
from flask import Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from plugin.audit.services import record
from plugin.database import write_apart
from plugin.oauth.resources.audiences import MCP_PATH, metadata_url, resource_name
from plugin.oauth.scopes import ordered, scopes
from plugin.oauth.tokens.lookup import PresentedToken, find_access_token

_signals = Namespace()
#: Sent with ``token``, ``presented_at`` (the resource URL) and ``needed`` (missing scopes)
#: when a known token is refused at a resource.
refused_at_resource = _signals.signal("token-refused")
#: Sent with ``token`` and ``presented_at`` when a token is accepted at a resource.
accepted_at_resource = _signals.signal("token-accepted")


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
