"""Client ID Metadata Documents: a client whose ``client_id`` is an https URL describes itself
in the JSON document at that URL.

The document is fetched safely (``fetch``), validated, and kept on the client's row: fresh
for as long as its cache headers say (within bounds), and as the last good copy when a later
fetch fails. ChatGPT's and Claude's documents ship here, because their hosts have answered
datacenter fetches with bot challenges: they serve as the last good copy from the start.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from authlib.oauth2.rfc6749 import InvalidClientError
from flask import current_app
from sqlalchemy.exc import IntegrityError

from plugin.audit.services import record
from plugin.clock import utcnow
from plugin.database import commit, discard_work
from plugin.extensions import db
from plugin.oauth import traces
from plugin.oauth.fetch import FetchError, fetch_json
from plugin.oauth.models import MAX_CLIENT_ID_LENGTH, OAuthClient
from plugin.oauth.registration import GRANT_TYPES, RegistrationError, clean_metadata
from plugin.oauth.scopes import scopes

MIN_FRESH = timedelta(minutes=5)
DEFAULT_FRESH = timedelta(hours=1)
MAX_FRESH = timedelta(hours=24)
# After a failed fetch the last good copy is used this long before the host is asked again.
RETRY_AFTER_FAILURE = timedelta(minutes=5)

CHATGPT_NAME = "ChatGPT"
CLAUDE_NAME = "Claude"
KNOWN_DOCUMENTS: dict[str, dict[str, Any]] = {
    "https://chatgpt.com/oauth/client.json": {
        "client_id": "https://chatgpt.com/oauth/client.json",
        "client_name": CHATGPT_NAME,
        "redirect_uris": ["https://chatgpt.com/connector_platform_oauth_redirect"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        # ChatGPT lists an array where RFC 7591 has one value; "none" is the one used here.
        "token_endpoint_auth_methods_supported": ["none", "private_key_jwt"],
    },
    "https://chatgpt.com/oauth/mcp/client.json": {
        "client_id": "https://chatgpt.com/oauth/mcp/client.json",
        "client_name": CHATGPT_NAME,
        "redirect_uris": ["https://chatgpt.com/connector/oauth/mcp"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_methods_supported": ["none", "private_key_jwt"],
    },
    "https://claude.ai/oauth/mcp-oauth-client-metadata": {
        "client_id": "https://claude.ai/oauth/mcp-oauth-client-metadata",
        "client_name": CLAUDE_NAME,
        "redirect_uris": [
            "https://claude.ai/api/mcp/auth_callback",
            "https://claude.com/api/mcp/auth_callback",
        ],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    },
}


def is_metadata_url(client_id: str) -> bool:
    """Tell whether ``client_id`` names a metadata document rather than a stored client."""
    if not client_id or len(client_id) > MAX_CLIENT_ID_LENGTH:
        return False
    if client_id.startswith("https://"):
        return True
    return bool(current_app.config["OAUTH_CIMD_ALLOW_LOOPBACK"]) and client_id.startswith("http://")


def check_url(url: str) -> None:
    """The rules for the URL itself (draft-ietf-oauth-client-id-metadata-document §3)."""
    parts = urlsplit(url)
    if parts.fragment or "#" in url or parts.username or parts.password:
        raise FetchError("the client_id URL must have no fragment or credentials")
    if not parts.path or parts.path == "/" or re.search(r"(^|/)\.\.?(/|$)", parts.path):
        raise FetchError("the client_id URL must have a path without dot segments")
    allowed = current_app.config["OAUTH_CIMD_ALLOWED_HOSTS"]
    if allowed and (parts.hostname or "").lower() not in allowed:
        raise FetchError(f"{parts.hostname} is not among OAUTH_CIMD_ALLOWED_HOSTS")


def _auth_method(document: dict[str, Any]) -> str:
    methods = document.get("token_endpoint_auth_method")
    if methods is None:
        methods = document.get("token_endpoint_auth_methods_supported", "none")
    listed = methods if isinstance(methods, list) else [methods]
    if "none" not in listed:
        raise FetchError("the client must use token_endpoint_auth_method 'none'")
    return "none"


def validate_document(url: str, document: dict[str, Any]) -> dict[str, Any]:
    """The client this document describes, in registration terms, or FetchError."""
    if document.get("client_id") != url:
        raise FetchError("the document's client_id is not its own URL")
    if "client_secret" in document or "client_secret_expires_at" in document:
        raise FetchError("a metadata document must not carry a client secret")
    _auth_method(document)
    fields: dict[str, Any] = {
        key: document[key] for key in ("redirect_uris", "client_name") if key in document
    }
    fields["grant_types"] = document.get("grant_types", list(GRANT_TYPES))
    fields["response_types"] = document.get("response_types", ["code"])
    if isinstance(document.get("scope"), str):
        fields["scope"] = " ".join(s for s in document["scope"].split() if s in scopes())
    try:
        return clean_metadata(fields)
    except RegistrationError as error:
        raise FetchError(str(error)) from None


def fresh_for(cache_control: str) -> timedelta:
    """How long a fetched document is used before asking again, from its Cache-Control."""
    directives = cache_control.lower()
    if "no-store" in directives or "no-cache" in directives:
        return MIN_FRESH
    match = re.search(r"max-age=(\d+)", directives)
    wanted = timedelta(seconds=int(match.group(1))) if match else DEFAULT_FRESH
    return max(MIN_FRESH, min(MAX_FRESH, wanted))


def _apply(client: OAuthClient, granted: dict[str, Any], document: dict[str, Any]) -> None:
    client.name = granted["client_name"]
    client.redirect_uris = granted["redirect_uris"]
    client.scope = granted["scope"]
    client.metadata_document = document


def _new_client(url: str) -> OAuthClient:
    client = OAuthClient(
        client_id=url,
        client_secret_hash=None,
        name=urlsplit(url).hostname or url,
        redirect_uris=[],
        scope="",
        token_endpoint_auth_method="none",  # noqa: S106 - a method name, not a secret
        kind="metadata-document",
    )
    seed = KNOWN_DOCUMENTS.get(url)
    if seed is not None:
        _apply(client, validate_document(url, seed), seed)
    db.session.add(client)
    return client


def refresh_document(client: OAuthClient) -> str | None:
    """Fetch the client's document again; return why that failed, or None.

    On failure the last good copy (if any) stays in use until ``RETRY_AFTER_FAILURE``.
    """
    url = client.client_id
    now = utcnow()
    try:
        check_url(url)
        fetched = fetch_json(url, allow_loopback=current_app.config["OAUTH_CIMD_ALLOW_LOOPBACK"])
        granted = validate_document(url, fetched.document)
    except FetchError as error:
        record(
            "client.metadata_fetch_failed",
            subject=f"client:{url}",
            reason=str(error),
            last_good_copy=client.metadata_document is not None,
        )
        client.metadata_fresh_until = now + RETRY_AFTER_FAILURE
        traces.metadata_fetched(client, str(error))
        return str(error)
    if client.metadata_document is None or client.id is None:
        record("client.registered", subject=f"client:{url}", kind="metadata-document")
    _apply(client, granted, fetched.document)
    client.metadata_fetched_at = now
    client.metadata_fresh_until = now + fresh_for(fetched.cache_control)
    traces.metadata_fetched(client, None)
    return None


def metadata_client(url: str) -> OAuthClient | None:
    """The client described at ``url``: cached while fresh, fetched when not.

    Raises InvalidClientError (shown on the error page, never redirected) when there is no
    usable document; a disabled client is None, like an unknown one.
    """
    if not current_app.config["OAUTH_CIMD_ENABLED"]:
        return None
    client = db.session.scalar(sa.select(OAuthClient).where(OAuthClient.client_id == url))
    if client is not None and client.is_disabled:
        return None
    if client is None:
        client = _new_client(url)
    if client.metadata_fresh_until is not None and client.metadata_fresh_until > utcnow():
        return client
    failure = refresh_document(client)
    if failure is not None and client.metadata_document is None:
        db.session.expunge(client)
    # Saved at once: the failure must reach the audit log even if this request then fails,
    # and one fetch per freshness period is the point of keeping the copy.
    try:
        commit()
    except IntegrityError:
        # A parallel request stored the same new client first: use that one.
        discard_work()
        return db.session.scalar(sa.select(OAuthClient).where(OAuthClient.client_id == url))
    if failure is not None and client.metadata_document is None:
        raise InvalidClientError(
            description=f"The app's client metadata document cannot be used: {failure}."
        )
    return client
