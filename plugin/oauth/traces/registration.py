"""The trace steps of registration (RFC 7591) and of fetching a client's metadata document."""

from __future__ import annotations

from typing import Any

from flask import current_app

from plugin.connections.services import Step, TraceKey, note
from plugin.oauth.models import OAuthClient
from plugin.oauth.traces.common import METADATA, REGISTRATION, client_facts, request_key


def registration_refused(metadata: Any, reason: str) -> None:
    name = metadata.get("client_name") if isinstance(metadata, dict) else None
    note(
        Step(
            REGISTRATION,
            False,
            TraceKey(),
            reason=f"the registration was refused: {reason}",
            fix=(
                "The client sends RFC 7591 metadata this server does not accept; it must "
                "register https (or loopback http) redirect_uris, grant types "
                "authorization_code/refresh_token and known scopes."
            ),
            facts={"client_name": name[:100] if isinstance(name, str) else None},
        )
    )


def registered(client: OAuthClient, created: bool) -> None:
    note(
        Step(
            REGISTRATION,
            True,
            TraceKey(client_id=client.client_id),
            reason=None if created else "an identical earlier registration was reused",
            details={"redirect_uris": list(client.redirect_uris)},
            facts=client_facts(client),
        )
    )


def metadata_fetched(client_id: str, client: OAuthClient | None, failure: str | None) -> None:
    """Note a fetch of ``client_id``'s document; ``failure`` (the operator's detail) if it
    failed, when ``client`` is the stored client with its last good copy, if any."""
    key = request_key()
    key.client_id = client_id
    if failure is None:
        note(Step(METADATA, True, key, facts=client_facts(client)))
        return
    kept = client is not None and client.metadata_document is not None
    note(
        Step(
            METADATA,
            False,
            key,
            reason=f"fetching {client_id} failed: {failure}"
            + ("; the last good copy is used" if kept else ""),
            fix=(
                "The document must be served over https from a public address, without "
                "redirects, at most 5 KB of JSON whose client_id is its own URL, within 5 "
                "seconds"
                + (
                    "; its host must be in OAUTH_CIMD_ALLOWED_HOSTS"
                    if current_app.config["OAUTH_CIMD_ALLOWED_HOSTS"]
                    else ""
                )
                + ". After a failure it is fetched again 5 minutes later."
            ),
            unknown_client=not kept,
        )
    )
