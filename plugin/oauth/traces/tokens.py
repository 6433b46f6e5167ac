"""The trace steps of the token endpoint: a code exchanged, a refresh refused, and why."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from authlib.oauth2 import OAuth2Error

from plugin.connections.services import Step, TraceKey, note
from plugin.oauth.traces.client_kinds import if_no_call_arrives
from plugin.oauth.traces.common import REFRESH, TOKEN, body, client_facts, guarded, request_key
from plugin.oauth.traces.explain import (
    explain_client_failure,
    explain_code_failure,
    explain_refresh_failure,
)


def token_refused(error: OAuth2Error) -> None:
    def build() -> Step | None:
        params = body()
        grant_type = params.get("grant_type")
        key = request_key()
        client = None
        if error.error == "invalid_client":
            reason, fix, client = explain_client_failure(params)
        elif grant_type == "refresh_token":
            reason, fix, token = explain_refresh_failure(error, params)
            key = TraceKey(client_id=key.client_id, family_id=token.family_id if token else None)
            return Step(REFRESH, False, key, reason, fix)
        elif error.error == "invalid_grant":
            reason, fix = explain_code_failure(error, params)
        else:
            reason, fix = explain_token_error(error, grant_type)
        unknown = error.error == "invalid_client" and client is None
        return Step(
            TOKEN, False, key, reason, fix, facts=client_facts(client), unknown_client=unknown
        )

    guarded(build)


def explain_token_error(error: OAuth2Error, grant_type: str | None) -> tuple[str, str]:
    description = error.description or error.error
    if error.error == "unsupported_grant_type":
        return (
            f"grant_type {grant_type!r} is not supported: {description}",
            "Use authorization_code (then refresh_token); this server offers no other grant.",
        )
    if error.error == "invalid_target":
        return (
            f"the resource of the token request is refused: {description}",
            "Send the same resource at /oauth/token as at /oauth/authorize (or none at all).",
        )
    return (f"{error.error}: {description}", "Check the token request the client sends.")


def token_issued(request_: Any, row: Mapping[str, Any]) -> None:
    if request_.refresh_token is not None:
        return  # refreshes are routine; only a failed one is traced
    user = request_.user
    note(
        Step(
            TOKEN,
            True,
            request_key(),
            # What to check if no call follows (shown once the trace waited in vain).
            fix=if_no_call_arrives(request_.client, row["resource"]),
            details={
                "client_authentication": getattr(request_, "auth_method", None),
                "scope": row["scope"],
            },
            facts={
                "family_id": row["family_id"],
                "user_id": user.id,
                "user_email": user.email,
                "audience": row["resource"],
            },
        )
    )
