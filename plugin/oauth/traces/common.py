"""What an OAuth step is called in a connection trace, and the key and facts every step reads
from the request.

The steps are noted by ``registration``, ``authorization``, ``tokens`` and ``calls`` beside
this module. The steps go to ``plugin.connections``; no secret, code, state or token value is
ever put in one (codes and states only as digests, for correlation).
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749.util import extract_basic_authorization
from flask import has_request_context, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import MultiDict

from plugin.connections.services import TraceKey, note
from plugin.digests import digest
from plugin.oauth.models import OAuthClient
from plugin.oauth.requests import TokenRequestError, body_parameters

REGISTRATION = "registration"
METADATA = "metadata document"
AUTHORIZE = "authorization request"
SIGN_IN = "sign-in"
UPSTREAM = "upstream sign-in"
CONSENT = "consent"
CODE = "authorization code"
TOKEN = "token exchange"  # noqa: S105 - a step name
REFRESH = "token refresh"


def body() -> MultiDict[str, str]:
    try:
        return body_parameters()
    except TokenRequestError:
        return MultiDict()


def client_id_sent(params: MultiDict[str, str]) -> str | None:
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
        params = body()
        code = params.get("code")
        return TraceKey(
            client_id=client_id_sent(params),
            code_digest=digest(code) if code else None,
        )
    return TraceKey()


def guarded(build: Any) -> None:
    """Note what ``build()`` returns; a database error while explaining never fails the
    request being traced."""
    try:
        step = build()
    except SQLAlchemyError:
        return
    if step is not None:
        note(step)


def client_facts(client: OAuthClient | None) -> dict[str, Any]:
    return {"client_name": client.name} if client is not None else {}


def person(user: Any) -> dict[str, Any]:
    return {"user_id": user.id, "user_email": user.email} if user is not None else {}
