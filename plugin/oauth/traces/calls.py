"""The trace steps of calls to a protected resource, heard through the resource guards'
signals (``refused_at_resource``, ``accepted_at_resource``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import request

from plugin.clock import utcnow
from plugin.connections.services import Step, TraceKey, is_known_connected, note
from plugin.oauth.resources.audiences import resource_name
from plugin.oauth.resources.guard import accepted_at_resource, refused_at_resource
from plugin.oauth.tokens.lookup import PresentedToken


def _where(resource: str) -> str:
    return urlsplit(resource).path or resource


def _call_step(presented_at: str) -> str:
    return "MCP call" if _where(presented_at).startswith("/mcp") else "API call"


def call_succeeded(token: PresentedToken, presented_at: str) -> None:
    if is_known_connected(token.family_id):
        return
    note(
        Step(
            _call_step(presented_at),
            True,
            TraceKey(family_id=token.family_id),
            reason=f"{request.method} {request.path}",
            connects=True,
        )
    )


def call_refused(token: PresentedToken, presented_at: str, needed: list[str] | None = None) -> None:
    """Note why a known token was refused at ``presented_at``."""
    issued_for = resource_name(token.resource)
    now = utcnow()
    if token.resource != (None if _where(presented_at).startswith("/api") else presented_at):
        reason = (
            f"the token was issued for `{_where(issued_for)}` and presented at "
            f"`{_where(presented_at)}`"
        )
        if token.resource is None:
            fix = (
                "A GPT Action's token works only at /api. To use /mcp, connect the ChatGPT "
                f"app or Claude connector with the MCP server URL {presented_at}, so that the "
                "client asks for that resource."
            )
        else:
            fix = (
                f"The client asked for resource={issued_for}; tokens for /api are issued "
                "without a resource parameter (GPT Actions send none)."
            )
    elif token.revoked_at is not None:
        reason = f"the access token was revoked at {token.revoked_at:%Y-%m-%d %H:%M} UTC"
        fix = "The person reconnects from ChatGPT or Claude to get a new grant."
    elif token.access_expires_at <= now:
        reason = (
            f"the access token expired at {token.access_expires_at:%Y-%m-%d %H:%M} UTC and "
            "was not refreshed"
        )
        fix = "The client must refresh with its refresh token (the token response carries one)."
    elif token.user.is_disabled:
        reason = f"the account of {token.user.email} is disabled"
        fix = "Enable the account under Admin → Users if this person should connect."
    elif token.client.is_disabled:
        reason = f"the client {token.client.name} is disabled"
        fix = "Enable it under Admin → Clients."
    elif needed:
        reason = (
            f"the token has the scopes `{token.scope or '(none)'}`; this call needs "
            f"`{' '.join(needed)}`"
        )
        fix = (
            "The person reconnects and allows the missing scope; the client must be allowed "
            f"it too (Admin → Clients → {token.client.name} → Scopes)."
        )
    else:
        return
    note(
        Step(
            _call_step(presented_at),
            False,
            TraceKey(client_id=token.client.client_id, family_id=token.family_id),
            reason=reason,
            fix=fix,
            details={"path": request.path},
            facts={
                "client_name": token.client.name,
                "user_id": token.user_id,
                "user_email": token.user.email,
                "audience": token.resource,
            },
        )
    )


@refused_at_resource.connect
def _on_token_refused(
    token: PresentedToken, presented_at: str, needed: list[str] | None = None, **_: Any
) -> None:
    call_refused(token, presented_at, needed)


@accepted_at_resource.connect
def _on_token_accepted(token: PresentedToken, presented_at: str, **_: Any) -> None:
    call_succeeded(token, presented_at)
