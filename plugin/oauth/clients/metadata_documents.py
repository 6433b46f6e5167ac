"""Client ID Metadata Documents: a client whose ``client_id`` is an https URL describes itself
in the JSON document at that URL.

The document is fetched safely (``fetch``) beside the request (``outbound``), validated, and
kept on the client's row: fresh for as long as its cache headers say (within bounds), and as
the last good copy when a later fetch fails. A failed fetch stores no client: its audit event
is the failure record, and the back-off (no new fetch of that URL for ``RETRY_AFTER_FAILURE``)
is read from it. ChatGPT's and Claude's documents ship with the server (``vendor_documents``):
they serve as the last good copy from the start.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from authlib.oauth2.rfc6749 import InvalidClientError
from flask import Flask, current_app
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from plugin.audit.models import AuditEvent
from plugin.audit.services import record
from plugin.clock import utcnow
from plugin.database import commit, discard_work
from plugin.extensions import db
from plugin.oauth.clients.fetch import FetchError, fetch_json
from plugin.oauth.clients.outbound import FetchRefused, fetch_and_wait
from plugin.oauth.clients.registration import GRANT_TYPES, RegistrationError, clean_metadata
from plugin.oauth.clients.vendor_documents import KNOWN_DOCUMENTS
from plugin.oauth.models import MAX_CLIENT_ID_LENGTH, OAuthClient
from plugin.oauth.scopes import scopes
from plugin.oauth.traces.registration import metadata_fetched

log = logging.getLogger(__name__)

MIN_FRESH = timedelta(minutes=5)
DEFAULT_FRESH = timedelta(hours=1)
MAX_FRESH = timedelta(hours=24)
# After a failed fetch the host is not asked again for this long (the last good copy, if
# any, is used meanwhile).
RETRY_AFTER_FAILURE = timedelta(minutes=5)
FAILED = "client.metadata_fetch_failed"
SUBJECT = "client:"
# Longer URLs are no metadata documents: the audit subject ``client:<url>`` must fit its column.
MAX_URL_LENGTH = MAX_CLIENT_ID_LENGTH - len(SUBJECT)


def is_metadata_url(client_id: str) -> bool:
    """Tell whether ``client_id`` names a metadata document rather than a stored client."""
    if not client_id or len(client_id) > MAX_URL_LENGTH:
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
    if match is None:
        return DEFAULT_FRESH
    # Clamped as digits: a 30-digit max-age overflows timedelta (OverflowError).
    digits = match.group(1).lstrip("0") or "0"
    ceiling = int(MAX_FRESH.total_seconds())
    seconds = ceiling if len(digits) > len(str(ceiling)) else min(int(digits), ceiling)
    return max(MIN_FRESH, timedelta(seconds=seconds))


def _apply(client: OAuthClient, granted: dict[str, Any], document: dict[str, Any]) -> None:
    client.name = granted["client_name"]
    client.redirect_uris = granted["redirect_uris"]
    client.scope = granted["scope"]
    client.metadata_document = document


def _new_client(url: str) -> OAuthClient:
    client = OAuthClient(
        client_id=url,
        client_secret_hash=None,
        name=(urlsplit(url).hostname or url)[:100],
        redirect_uris=[],
        scope="",
        token_endpoint_auth_method="none",  # noqa: S106 - a method name, not a secret
        kind="metadata-document",
    )
    seed = KNOWN_DOCUMENTS.get(url)
    if seed is not None:
        _apply(client, validate_document(url, seed), seed)
    return client


def _stored(url: str) -> OAuthClient | None:
    # Read afresh: the fetch thread may have just stored a newer copy.
    statement = sa.select(OAuthClient).where(OAuthClient.client_id == url)
    return db.session.scalar(statement.execution_options(populate_existing=True))


def recent_failure(url: str) -> str | None:
    """What went wrong (in public words) if fetching ``url`` failed within the back-off."""
    row = db.session.execute(
        sa.select(AuditEvent.details)
        .where(
            AuditEvent.event == FAILED,
            AuditEvent.subject == SUBJECT + url,
            AuditEvent.created_at > utcnow() - RETRY_AFTER_FAILURE,
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    details = row.details or {}
    return str(details.get("shown") or "the fetch failed")


def _store_outcome(url: str, outcome: dict[str, Any] | FetchError) -> None:
    """Save what a fetch of ``url`` found: the client's new copy, or the failure record."""
    client = _stored(url)
    now = utcnow()
    if isinstance(outcome, FetchError):
        record(
            FAILED,
            subject=SUBJECT + url,
            reason=outcome.detail,
            shown=str(outcome),
            last_good_copy=client is not None and client.metadata_document is not None,
        )
        if client is not None:
            client.metadata_fresh_until = now + RETRY_AFTER_FAILURE
        metadata_fetched(url, client, outcome.detail)
        return
    created = client is None
    if client is None:
        client = _new_client(url)
        db.session.add(client)
    _apply(client, outcome["granted"], outcome["document"])
    client.metadata_fetched_at = now
    client.metadata_fresh_until = now + fresh_for(outcome["cache_control"])
    if created:
        record("client.registered", subject=SUBJECT + url, kind="metadata-document")
    db.session.flush()
    metadata_fetched(url, client, None)


def _fetch(url: str) -> dict[str, Any] | FetchError:
    try:
        fetched = fetch_json(url, allow_loopback=current_app.config["OAUTH_CIMD_ALLOW_LOOPBACK"])
        granted = validate_document(url, fetched.document)
    except FetchError as error:
        return error
    return {
        "granted": granted,
        "document": fetched.document,
        "cache_control": fetched.cache_control,
    }


def _fetch_and_store(app: Flask, url: str) -> None:
    """Fetch ``url`` and save the outcome, in a unit of work of its own (a fetch thread)."""
    with app.app_context():
        outcome = _fetch(url)
        for _attempt in range(2):
            try:
                _store_outcome(url, outcome)
                commit()
                return
            except IntegrityError:
                # A request stored the same client (a shipped copy) first: update that one.
                discard_work()
            except SQLAlchemyError as error:
                discard_work()
                log.warning("metadata document of %r not saved: %s", url, type(error).__name__)
                return


def _seed(url: str) -> OAuthClient | None:
    """Store a shipped copy as the first good copy (stale, so the host is asked next time)."""
    client = _new_client(url)
    client.metadata_fresh_until = utcnow()
    try:
        with db.session.begin_nested():
            db.session.add(client)
    except IntegrityError:
        return _stored(url)  # a parallel request stored it first
    return client


def _unusable(reason: str) -> InvalidClientError:
    return InvalidClientError(
        description=f"The app's client metadata document cannot be used: {reason}."
    )


def _is_fresh(client: OAuthClient) -> bool:
    fresh_until = client.metadata_fresh_until
    return fresh_until is not None and fresh_until > utcnow()


def metadata_client(url: str) -> OAuthClient | None:
    """The client described at ``url``: cached while fresh, fetched when not.

    Raises InvalidClientError (shown on the error page, never redirected) when there is no
    usable document; a disabled client is None, like an unknown one.
    """
    if not current_app.config["OAUTH_CIMD_ENABLED"]:
        return None
    client = _stored(url)
    if client is not None and (client.is_disabled or _is_fresh(client)):
        return None if client.is_disabled else client
    if client is None and url in KNOWN_DOCUMENTS:
        return _seed(url)
    client = _refetch(url, client)
    return None if client.is_disabled else client


def _refetch(url: str, client: OAuthClient | None) -> OAuthClient:
    """``client`` with the copy a fetch brings within ``OAUTH_CIMD_FETCH_WAIT`` seconds, else
    with its last good copy; InvalidClientError when there is neither."""
    try:
        check_url(url)
    except FetchError as error:
        metadata_fetched(url, client, error.detail)
        raise _unusable(str(error)) from None
    if recent_failure(url) is None:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        try:
            arrived = fetch_and_wait(url, lambda: _fetch_and_store(app, url))
        except FetchRefused as error:
            if client is None:
                raise InvalidClientError(description=str(error)) from None
            arrived = False
        if arrived:
            client = _stored(url)
        elif client is None:
            raise InvalidClientError(
                description="The app's client metadata document is still being fetched: "
                "try again in a few seconds."
            )
    if client is not None and client.metadata_document is not None:
        return client
    failure = recent_failure(url) or "the fetch failed"
    raise _unusable(f"{failure} (it is fetched again a few minutes after a failure)")
