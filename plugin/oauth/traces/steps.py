"""What each OAuth step means for a connection trace: its key, and for a failure the reason
in words and what to change.

Called from the shared mechanisms only: the authorization server (``server``),
registration and the metadata fetch; the resource guards (``resources.guard``, ``protect``) are
heard through their signals. The steps go to ``plugin.connections``; no secret, code, state
or token value is ever put in one (codes and states only as digests, for correlation).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from flask import current_app, has_request_context, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import MultiDict

from plugin.accounts.upstream.steps import upstream_step
from plugin.clock import utcnow
from plugin.connections.services import Step, TraceKey, is_known_connected, note
from plugin.digests import digest
from plugin.hosts import is_loopback_http
from plugin.oauth.models import OAuthClient
from plugin.oauth.requests import TokenRequestError, body_parameters
from plugin.oauth.resources.audiences import requested_resource, resource_name
from plugin.oauth.resources.guard import accepted_at_resource, refused_at_resource
from plugin.oauth.tokens.lookup import PresentedToken
from plugin.oauth.traces.client_kinds import if_no_call_arrives
from plugin.oauth.traces.explain import (
    explain_authorization_error,
    explain_client_failure,
    explain_code_failure,
    explain_refresh_failure,
)

REGISTRATION = "registration"
METADATA = "metadata document"
AUTHORIZE = "authorization request"
SIGN_IN = "sign-in"
UPSTREAM = "upstream sign-in"
CONSENT = "consent"
CODE = "authorization code"
TOKEN = "token exchange"  # noqa: S105 - a step name
REFRESH = "token refresh"


def _body() -> MultiDict[str, str]:
    try:
        return body_parameters()
    except TokenRequestError:
        return MultiDict()


def _client_id_sent(params: MultiDict[str, str]) -> str | None:
    basic_id, _secret = extract_basic_authorization(request.headers)
    return basic_id or params.get("client_id") or None


def request_key() -> TraceKey:
    """The correlation key the current OAuth request carries."""
    if not has_request_context():
        return TraceKey()
    if request.endpoint == "oauth.authorize":
        state = request.args.get("state")
        return TraceKey(
            client_id=request.args.get("client_id") or None,
            state_digest=digest(state) if state else None,
        )
    if request.endpoint == "oauth.issue_token":
        params = _body()
        code = params.get("code")
        return TraceKey(
            client_id=_client_id_sent(params),
            code_digest=digest(code) if code else None,
        )
    return TraceKey()


def _guarded(build: Any) -> None:
    """Note what ``build()`` returns; a database error while explaining never fails the
    request being traced."""
    try:
        step = build()
    except SQLAlchemyError:
        return
    if step is not None:
        note(step)


def _client_facts(client: OAuthClient | None) -> dict[str, Any]:
    return {"client_name": client.name} if client is not None else {}


# Registration and the metadata document


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
            facts=_client_facts(client),
        )
    )


def metadata_fetched(client_id: str, client: OAuthClient | None, failure: str | None) -> None:
    """Note a fetch of ``client_id``'s document; ``failure`` (the operator's detail) if it
    failed, when ``client`` is the stored client with its last good copy, if any."""
    key = request_key()
    key.client_id = client_id
    if failure is None:
        note(Step(METADATA, True, key, facts=_client_facts(client)))
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


# The authorization endpoint


def _requested(grant: Any) -> dict[str, Any]:
    data = grant.request.payload.data
    return {
        "redirect_uri": grant.redirect_uri,
        "scope": grant.request.scope or "",
        "resource": data.get("resource"),
        "pkce": bool(data.get("code_challenge")),
    }


def authorization_requested(grant: Any, user: Any) -> None:
    key = request_key()
    client: OAuthClient = grant.client
    facts = _client_facts(client) | _person(user) | {"audience": requested_resource(grant.request)}
    note(Step(AUTHORIZE, True, key, details=_requested(grant), facts=facts))
    if user is None:
        note(Step(SIGN_IN, True, key, reason="not signed in: sent to the login page"))


def _pending_key(next_target: str | None) -> TraceKey | None:
    """The key of the authorization request a login's ``next`` path resumes, if it is one."""
    parts = urlsplit(next_target or "")
    if parts.path != "/oauth/authorize":
        return None
    query = parse_qs(parts.query)
    state = query.get("state", [None])[0]
    return TraceKey(
        client_id=query.get("client_id", [None])[0],
        state_digest=digest(state) if state else None,
    )


@upstream_step.connect
def upstream_signin_step(provider: str, **step: Any) -> None:
    """Note how a sign-in at an upstream provider went, in the install it interrupted."""
    key = _pending_key(step.get("next_target"))
    if key is None:
        return
    reason = f"{step.get('label') or provider}: {step.get('reason') or step.get('cause')}"
    note(
        Step(
            UPSTREAM,
            bool(step.get("ok")),
            key,
            reason=reason,
            fix=step.get("fix"),
            details={"provider": provider, "cause": step.get("cause")},
            facts=_person(step.get("user")),
        )
    )


def _person(user: Any) -> dict[str, Any]:
    return {"user_id": user.id, "user_email": user.email} if user is not None else {}


def authorization_refused(error: OAuth2Error, user: Any) -> None:
    def build() -> Step:
        reason, fix, client = explain_authorization_error(error, request.args)
        facts = _client_facts(client) | _person(user)
        key = request_key()
        return Step(AUTHORIZE, False, key, reason, fix, facts=facts, unknown_client=client is None)

    _guarded(build)


def authorization_answered(grant: Any, user: Any, location: str) -> None:
    key = request_key()
    people = _person(user)
    codes = parse_qs(urlsplit(location).query).get("code")
    if codes:
        note(
            Step(
                CODE,
                True,
                key,
                reason=f"sent to {grant.redirect_uri}",
                fix=_if_never_exchanged(grant.client, grant.redirect_uri),
                facts=people | {"code_digest": digest(codes[0])},
            )
        )
    elif user is None:
        note(
            Step(
                CONSENT,
                False,
                key,
                reason="the person pressed Deny on the consent page",
                fix="Nothing to change on the server: the person chose not to connect.",
            )
        )


def _if_never_exchanged(client: OAuthClient, redirect_uri: str) -> str:
    """What to check when the code sent to ``redirect_uri`` is never exchanged."""
    where = urlsplit(redirect_uri)
    if is_loopback_http(redirect_uri):
        return (
            f"{client.name} is a desktop client waiting on {where.netloc}: the browser could "
            "not reach that loopback callback, or the client stopped waiting before the person "
            "finished. Start the connection again from the app and finish it in a browser on "
            "the same computer while the app waits."
        )
    return (
        f"{client.name} is a web client: its callback at {where.hostname} got the code but "
        "never called /oauth/token. Check that the client can reach this server's token "
        "endpoint and sends the code back with the same redirect_uri."
    )


# The token endpoint


def token_refused(error: OAuth2Error) -> None:
    def build() -> Step | None:
        params = _body()
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
            TOKEN, False, key, reason, fix, facts=_client_facts(client), unknown_client=unknown
        )

    _guarded(build)


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


# Calls to a protected resource


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
