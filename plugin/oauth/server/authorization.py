"""The Authlib authorization server: its grants and endpoints, token generation, ``init_app``.

The pieces live beside it: ``grants`` and ``endpoints`` (revocation, introspection); below
it ``oauth.requests`` (how a Flask request is read) and ``oauth.tokens`` (issuing and finding
tokens).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from authlib.integrations.flask_oauth2 import AuthorizationServer as FlaskAuthorizationServer
from authlib.oauth2 import OAuth2Error, OAuth2Request
from authlib.oauth2.rfc6749 import InvalidScopeError
from authlib.oauth2.rfc9207 import IssuerParameter
from flask import Flask
from flask import request as flask_request

from plugin.accounts.models import User
from plugin.audit.services import record
from plugin.extensions import db
from plugin.oauth.clients.metadata_documents import is_metadata_url, metadata_client
from plugin.oauth.models import MAX_CLIENT_ID_LENGTH, AuthorizationCode, OAuthClient, OAuthToken
from plugin.oauth.requests import OAuthRequest
from plugin.oauth.scopes import ordered, scopes
from plugin.oauth.server.endpoints import IntrospectionEndpoint, RevocationEndpoint
from plugin.oauth.server.grants import (
    AuthorizationCodeGrant,
    CodeChallenge,
    RefreshTokenGrant,
    ResourceIndicator,
)
from plugin.oauth.tokens.issue import store_tokens, token_response
from plugin.oauth.traces.authorization import (
    authorization_answered,
    authorization_refused,
    authorization_requested,
)
from plugin.oauth.traces.tokens import token_issued, token_refused
from plugin.web import public_url

# Built once: every token, revocation and introspection request runs it, and composing it
# cost about a fifth of running it.
CLIENT_USE_PRECISION = timedelta(minutes=1)
CLIENT_QUERY = sa.select(OAuthClient).where(OAuthClient.client_id == sa.bindparam("client_id"))


class AuthorizationServer(FlaskAuthorizationServer):
    def create_oauth2_request(self, request: Any) -> OAuthRequest:
        return OAuthRequest()

    def query_client(self, client_id: str) -> OAuthClient | None:
        if not client_id or len(client_id) > MAX_CLIENT_ID_LENGTH:
            return None
        if is_metadata_url(client_id):
            return metadata_client(client_id)
        client = db.session.scalar(CLIENT_QUERY, {"client_id": client_id})
        # A disabled client is treated as unknown: no redirect, no tokens.
        return client if client and not client.is_disabled else None

    def authenticate_client(
        self, request: OAuth2Request, methods: list[str], endpoint: str = "token"
    ) -> OAuthClient:
        # RFC 6749 §2.3: one authentication method per request. Credentials in an
        # Authorization header are the only ones tried, so a wrong header is never rescued
        # by a right secret in the body.
        if request.headers.get("Authorization", "").lower().startswith("basic "):
            methods = [method for method in methods if method == "client_secret_basic"]
        client: OAuthClient = super().authenticate_client(request, methods, endpoint)
        return client

    def get_consent_grant(self, request: Any = None, end_user: User | None = None) -> Any:
        # Every authorization request passes here: the place to trace it, refused or not.
        try:
            grant = super().get_consent_grant(request, end_user=end_user)
        except OAuth2Error as error:
            authorization_refused(error, end_user)
            raise
        authorization_requested(grant, end_user)
        return grant

    def create_authorization_response(
        self, request: Any = None, grant_user: User | None = None, grant: Any = None
    ) -> Any:
        response = super().create_authorization_response(request, grant_user, grant)
        authorization_answered(grant, grant_user, response.headers.get("Location", ""))
        return response

    def handle_error_response(self, request: Any, error: OAuth2Error) -> Any:
        if flask_request.endpoint == "oauth.issue_token":
            # Traced before the description below is made the same for every cause.
            token_refused(error)
        if error.error == "invalid_client":
            # One answer for an unknown client, a wrong secret or a missing one (RFC 6749 §5.2).
            error.status_code = 401
            error.description = "Client authentication failed: check the client ID and secret."
        elif error.error == "unsupported_token_type":
            error.status_code = 400  # RFC 7009 §2.2.1; Authlib answers 401
        return super().handle_error_response(request, error)

    def validate_requested_scope(self, scope: str | None) -> None:
        known = scopes()
        unknown = [name for name in (scope or "").split() if name not in known]
        if unknown:
            raise InvalidScopeError(f"Unknown scope '{unknown[0]}'.")

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        previous: OAuthToken | None = request.refresh_token
        code: AuthorizationCode | None = request.authorization_code
        row = store_tokens(
            token,
            request.client,
            request.user,
            # A refreshed pair stays in its grant's family, bound to the code that began it.
            family_id=previous.family_id if previous else None,
            authorization_code_id=(
                previous.authorization_code_id if previous else code.id if code else None
            ),
            # RFC 8707: the audience chosen at authorization stays with the whole family.
            resource=previous.resource if previous else code.resource if code else None,
        )
        _note_client_use(request.client, row["issued_at"])
        # The refresh grant seals this answer for a retry (grants.RefreshTokenGrant).
        request.issued_token = token
        token_issued(request, row)
        record(
            "token.refreshed" if previous else "token.issued",
            actor=request.user,
            subject=f"client:{request.client.client_id}",
            scope=row["scope"],
        )


def _note_client_use(client: OAuthClient, when: datetime) -> None:
    # To the minute: ChatGPT's one client issues every person's tokens, and writing its row
    # on each refresh was a statement per grant and a row lock every parallel refresh queued
    # behind (PostgreSQL). Pruning counts in days; the console shows minutes.
    last = client.last_used_at
    if last is None or when - last >= CLIENT_USE_PRECISION:
        client.last_used_at = when


class Issuer(IssuerParameter):
    """RFC 9207: ``iss`` on every authorization response, so clients can tell servers apart."""

    def get_issuer(self) -> str:
        return public_url()


issuer = Issuer()


def generate_bearer_token(
    grant_type: str,
    client: OAuthClient,
    user: User | None = None,
    scope: str | None = None,
    expires_in: int | None = None,
    include_refresh_token: bool = True,
) -> dict[str, Any]:
    # Never wider than the client's current scopes, even when refreshing an older grant.
    granted = ordered(set((scope or "").split()) & set(client.scopes))
    return token_response(granted, include_refresh_token=include_refresh_token)


def _build_server() -> AuthorizationServer:
    authorization_server = AuthorizationServer()
    authorization_server.register_grant(
        AuthorizationCodeGrant, [CodeChallenge(required=True), ResourceIndicator()]
    )
    authorization_server.register_grant(RefreshTokenGrant)
    authorization_server.register_endpoint(RevocationEndpoint)
    authorization_server.register_endpoint(IntrospectionEndpoint)
    authorization_server.register_extension(issuer)
    return authorization_server


# One server for the process; it reads settings from ``current_app`` on each request.
server = _build_server()


def init_app(app: Flask) -> None:
    # Authlib's debug lines print whole token responses; keep them out of any log level.
    logging.getLogger("authlib").setLevel(logging.WARNING)
    server.init_app(app)
    server.register_token_generator("default", generate_bearer_token)
