"""The trace steps of the authorization endpoint: the request, sign-in (here or upstream),
consent, and the code sent back."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from authlib.oauth2 import OAuth2Error
from flask import request

from plugin.accounts.upstream.steps import upstream_step
from plugin.connections.services import Step, TraceKey, note
from plugin.digests import digest
from plugin.hosts import is_loopback_http
from plugin.oauth.models import OAuthClient
from plugin.oauth.resources.audiences import requested_resource
from plugin.oauth.traces.common import (
    AUTHORIZE,
    CODE,
    CONSENT,
    SIGN_IN,
    UPSTREAM,
    client_facts,
    guarded,
    person,
    request_key,
)
from plugin.oauth.traces.explain import explain_authorization_error


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
    facts = client_facts(client) | person(user) | {"audience": requested_resource(grant.request)}
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
            facts=person(step.get("user")),
        )
    )


def authorization_refused(error: OAuth2Error, user: Any) -> None:
    def build() -> Step:
        reason, fix, client = explain_authorization_error(error, request.args)
        facts = client_facts(client) | person(user)
        key = request_key()
        return Step(AUTHORIZE, False, key, reason, fix, facts=facts, unknown_client=client is None)

    guarded(build)


def authorization_answered(grant: Any, user: Any, location: str) -> None:
    key = request_key()
    people = person(user)
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
