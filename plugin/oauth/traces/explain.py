"""Why an authorization or token request failed, in words, with what to change.

The answers a client gets stay terse (RFC 6749 §5.2 says one thing for every client
authentication failure); the connection trace tells the operator the specific cause.
Reasons name client ids, redirect URIs and scopes, never a secret, code or token.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from flask import current_app, request
from werkzeug.datastructures import MultiDict

from plugin.clock import utcnow
from plugin.digests import digest
from plugin.extensions import db
from plugin.oauth.models import AuthorizationCode, OAuthClient, OAuthToken
from plugin.oauth.traces.client_kinds import credentials_home, reconnect_from

if TYPE_CHECKING:
    from collections.abc import Mapping

Explained = tuple[str, str]

PASTE_CURRENT_CREDENTIALS = (
    "Paste the current client secret into {home}; if nobody has it, rotate it under Admin → "
    "Clients → {name} and paste the new one. Both token exchange methods (POST body, Basic "
    "header) work."
)


def _paste_current(client: OAuthClient) -> str:
    return PASTE_CURRENT_CREDENTIALS.format(home=credentials_home(client), name=client.name)


def _stored(client_id: str | None) -> OAuthClient | None:
    if not client_id:
        return None
    client: OAuthClient | None = db.session.scalar(
        sa.select(OAuthClient).where(OAuthClient.client_id == client_id[:255])
    )
    return client


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value else "never"


def _listed(values: list[str]) -> str:
    return ", ".join(f"`{value}`" for value in values) or "none"


def near_miss(uri: str, registered: list[str]) -> str:
    """A hint when ``uri`` is almost one of ``registered`` (the usual copy-paste slips)."""
    for candidate in registered:
        if candidate.rstrip("/") == uri.rstrip("/"):
            return f" (it differs from `{candidate}` only by a trailing slash)"
        if candidate.lower() == uri.lower():
            return f" (it differs from `{candidate}` only in upper/lower case)"
        if candidate.split("://", 1)[-1] == uri.split("://", 1)[-1]:
            return f" (it differs from `{candidate}` only by its scheme)"
        if "/aip/" in candidate and "/aip/" in uri:
            return (
                " (ChatGPT shows a new callback URL when the GPT or plugin changes: "
                f"the registered one is `{candidate}`)"
            )
    return ""


def _redirect_fix(client: OAuthClient, uri: str) -> str:
    if client.is_registered_by_hand:
        return (
            f"Add `{uri}` exactly as ChatGPT shows it under Admin → Clients → {client.name} → "
            "Redirect URIs."
        )
    if client.kind == "metadata-document":
        return f"The document at {client.client_id} must list `{uri}` in its redirect_uris."
    return "This client registered its redirect URIs itself: it must register again with it."


def explain_authorization_error(
    error: OAuth2Error, args: Mapping[str, str]
) -> tuple[str, str, OAuthClient | None]:
    """Reason, fix and the client (if known) for a refused authorization request."""
    client_id = args.get("client_id")
    uri = args.get("redirect_uri")
    description = error.description or error.error
    if error.error == "invalid_client":
        client = _stored(client_id)
        if not client_id:
            return ("the request has no client_id", "Send the client ID of a client.", None)
        if client_id.startswith(("https://", "http://")):
            fix = (
                "Client ID Metadata Documents are off (OAUTH_CIMD_ENABLED); turn them on, or "
                "let the client use dynamic registration."
                if not current_app.config["OAUTH_CIMD_ENABLED"]
                else "Make the client's document fetchable (see the metadata document step)."
            )
            return (f"client_id `{client_id}`: {description}", fix, client)
        if client is not None and client.is_disabled:
            return (
                f"client `{client.name}` is disabled",
                "Enable it under Admin → Clients.",
                client,
            )
        return (
            f"client_id `{client_id}` is not a client of this server (deleted, mistyped, or "
            "made on another server)",
            "Paste the client ID shown under Admin → Clients into ChatGPT, or create a client.",
            None,
        )
    client = _stored(client_id)
    if client is not None and uri and not client.check_redirect_uri(uri):
        return (
            f"redirect_uri `{uri}` is not registered for this client; registered: "
            f"{_listed(client.redirect_uris)}{near_miss(uri, client.redirect_uris)}",
            _redirect_fix(client, uri),
            client,
        )
    if client is not None and not uri and len(client.redirect_uris) != 1:
        return (
            "the request names no redirect_uri and the client has several registered",
            "The client must send redirect_uri.",
            client,
        )
    if "code_challenge" in description:
        return (
            f"{description} (client `{client.name if client else client_id}` is public)",
            "Public clients (ChatGPT apps, Claude) send PKCE. A GPT Action sends none: give it "
            "a confidential client (without “Public client”).",
            client,
        )
    if error.error == "invalid_target":
        return (
            f"{description}",
            "Set PLUGIN_BASE_URL to the exact public origin the client uses; the resource "
            "must be that origin followed by /mcp.",
            client,
        )
    if error.error == "invalid_scope":
        return (
            description,
            f"Ask only for the scopes this server offers ({client and client.scope}).",
            client,
        )
    return (
        f"{error.error}: {description}",
        "Check the authorization request the client sends.",
        client,
    )


def explain_client_failure(params: MultiDict[str, str]) -> tuple[str, str, OAuthClient | None]:
    """Why client authentication failed at the token endpoint."""
    header = request.headers.get("Authorization", "")
    basic = header.lower().startswith("basic ")
    basic_id, basic_secret = extract_basic_authorization(request.headers)
    if basic and (not basic_id or basic_secret is None):
        return (
            "the Authorization header is not valid HTTP Basic (base64 of client_id:secret)",
            "Choose the token exchange method “Default (POST request)” or fix the header.",
            None,
        )
    client_id = basic_id if basic else params.get("client_id")
    secret = basic_secret if basic else params.get("client_secret")
    if not client_id:
        return (
            "the request carried no client credentials: no HTTP Basic header and no client_id "
            "in the body",
            f"Fill in the Client ID and Client Secret in {credentials_home(None)}.",
            None,
        )
    client = _stored(client_id)
    if client is None:
        return (
            f"client_id `{client_id}` is not a client of this server",
            f"Paste the client ID shown under Admin → Clients into {credentials_home(None)}.",
            None,
        )
    if client.is_disabled:
        return (f"client `{client.name}` is disabled", "Enable it under Admin → Clients.", client)
    if client.is_public:
        return (
            f"client `{client.name}` is public (it has no secret) but the request sent one",
            "Send only client_id with PKCE, or use a confidential client for a GPT Action.",
            client,
        )
    if not secret:
        return (
            f"the request sent no client secret for the confidential client `{client.name}`",
            _paste_current(client),
            client,
        )
    if basic:
        reason = "the client sent its secret by HTTP Basic but it does not match this client's"
        if params.get("client_secret"):
            reason += " (the client_secret in the body is not tried when a Basic header is sent)"
    else:
        reason = "the client_secret in the POST body does not match this client's"
    if client.secret_rotated_at:
        reason += f"; the secret was rotated at {_when(client.secret_rotated_at)}"
    return (reason, _paste_current(client), client)


def explain_code_failure(error: OAuth2Error, params: MultiDict[str, str]) -> Explained:
    """Why an authorization code was refused."""
    code = params.get("code")
    row = (
        db.session.scalar(
            sa.select(AuthorizationCode).where(AuthorizationCode.code_hash == digest(code))
        )
        if code
        else None
    )
    again = "The person connects again; each code works once, within AUTH_CODE_TTL seconds."
    if not code:
        return ("the token request has no code", "The client must send the code it received.")
    if row is None:
        return ("the code is unknown to this server (mistyped, or from another server)", again)
    sent_id = extract_basic_authorization(request.headers)[0] or params.get("client_id")
    if row.client.client_id != sent_id:
        return (f"the code was issued to another client (`{row.client.client_id}`)", again)
    if row.used_at is not None:
        return (
            f"the code was already exchanged at {_when(row.used_at)}; a second exchange "
            "revokes the tokens of the first (is the client retrying the exchange?)",
            again,
        )
    if row.expires_at <= utcnow():
        ttl = current_app.config["AUTH_CODE_TTL"]
        return (
            f"the code expired at {_when(row.expires_at)}, {ttl} s after it was issued",
            "The client must exchange the code at once; AUTH_CODE_TTL sets how long it lasts.",
        )
    sent_uri = params.get("redirect_uri")
    if sent_uri and sent_uri != row.redirect_uri:
        return (
            f"redirect_uri `{sent_uri}` differs from the authorization request's "
            f"`{row.redirect_uri}`",
            "Send the same redirect_uri to /oauth/token as to /oauth/authorize.",
        )
    if row.code_challenge and not params.get("code_verifier"):
        return (
            "the authorization request sent a PKCE code_challenge but the token request has "
            "no code_verifier",
            "The client must send its code_verifier.",
        )
    if row.code_challenge:
        return ("the code_verifier does not match the code_challenge", again)
    return (f"invalid_grant: {error.description}", again)


def explain_refresh_failure(
    error: OAuth2Error, params: MultiDict[str, str]
) -> tuple[str, str, OAuthToken | None]:
    from plugin.oauth.tokens.lookup import find_token_row

    token = find_token_row(params.get("refresh_token") or "", "refresh_token")
    reconnect = reconnect_from(token.client if token is not None else None)
    if error.error == "invalid_client":
        return (f"client authentication failed: {error.description}", reconnect, token)
    if token is None:
        return ("the refresh token is unknown (revoked with its grant or client)", reconnect, None)
    if token.refreshed_at is not None:
        return (
            f"the refresh token was already used at {_when(token.refreshed_at)}; using a "
            "retired one again revokes the whole grant",
            reconnect,
            token,
        )
    if token.refresh_expires_at is not None and token.refresh_expires_at <= utcnow():
        return (f"the refresh token expired at {_when(token.refresh_expires_at)}", reconnect, token)
    if token.revoked_at is not None:
        return (f"the grant was revoked at {_when(token.revoked_at)}", reconnect, token)
    return (f"{error.error}: {error.description}", reconnect, token)
