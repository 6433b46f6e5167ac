"""The Authlib authorization server: requests, grants, endpoints and ``init_app``.

Where Authlib's defaults fall short of what ChatGPT and the security bar need, the
subclasses below say why: JSON token requests, hashed secrets and tokens, atomic code
consumption, S256-only PKCE, and refresh rotation with reuse detection.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from authlib.integrations.flask_oauth2 import AuthorizationServer as FlaskAuthorizationServer
from authlib.oauth2 import OAuth2Error, OAuth2Request
from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError, InvalidScopeError, grants
from authlib.oauth2.rfc6749.requests import OAuth2Payload
from authlib.oauth2.rfc7009 import RevocationEndpoint as BaseRevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge as BaseCodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint as BaseIntrospectionEndpoint
from flask import Flask, current_app
from flask import request as flask_request
from sqlalchemy.orm import joinedload
from werkzeug.datastructures import MultiDict

from plugin.accounts.models import User
from plugin.audit.services import record
from plugin.clock import utcnow
from plugin.digests import digest
from plugin.extensions import db
from plugin.oauth.models import AuthorizationCode, OAuthClient, OAuthToken
from plugin.oauth.protect import is_token_active
from plugin.oauth.scopes import SCOPES
from plugin.oauth.services import revoke_tokens
from plugin.oauth.tokens import store_tokens, token_response

CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
# Parameters that carry credentials: refused in a token-endpoint URL, where they would be logged.
URL_SECRETS = ("client_secret", "code", "refresh_token", "token", "code_verifier", "password")


class TokenRequestError(InvalidRequestError):
    """A token-endpoint body that cannot be read."""


class OAuthPayload(OAuth2Payload):
    def __init__(self, values: MultiDict) -> None:
        self._values = values

    @property
    def data(self) -> MultiDict:
        return self._values

    @property
    def datalist(self) -> dict[str, list[str]]:
        return {key: self._values.getlist(key) for key in self._values}


class OAuthRequest(OAuth2Request):
    """The current Flask request as Authlib sees it.

    The authorization endpoint reads its parameters from the query string only (the consent
    form posts back to the same URL). The other endpoints read the body only, as a form or
    as JSON (ChatGPT sends either), so credentials in a URL are never used.
    """

    def __init__(self) -> None:
        super().__init__(flask_request.method, flask_request.url, headers=flask_request.headers)
        if flask_request.endpoint == "oauth.authorize":
            self._values = MultiDict(flask_request.args)
        else:
            self._values = _body_parameters()
        self.payload = OAuthPayload(self._values)

    @property
    def args(self) -> MultiDict:
        return flask_request.args

    @property
    def form(self) -> MultiDict:
        return self._values


def _body_parameters() -> MultiDict:
    leaked = [name for name in URL_SECRETS if name in flask_request.args]
    if leaked:
        raise TokenRequestError(
            f"Send '{leaked[0]}' in the request body or an Authorization header, never in the URL."
        )
    if flask_request.mimetype == "application/json":
        data = flask_request.get_json(silent=True)
        if not isinstance(data, dict):
            raise TokenRequestError("The request body is not a JSON object.")
        values = MultiDict()
        for key, value in data.items():
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                raise TokenRequestError(f"'{key}' must be a string.")
            values.add(key, str(value))
        return values
    return MultiDict(flask_request.form)


@dataclass
class FoundToken:
    """A stored token row and which of its two values was presented."""

    row: OAuthToken
    kind: str  # "access_token" or "refresh_token"

    def check_client(self, client: OAuthClient) -> bool:
        return self.row.client_id == client.id

    def is_active(self) -> bool:
        if self.kind == "access_token":
            return is_token_active(self.row)
        row = self.row
        return (
            row.revoked_at is None
            and row.refreshed_at is None
            and row.refresh_expires_at is not None
            and row.refresh_expires_at > utcnow()
            and not row.user.is_disabled
            and not row.client.is_disabled
        )


def find_token(value: str, hint: str | None = None) -> FoundToken | None:
    """Look a presented token up by digest, trying the hinted kind first."""
    if not value or len(value) > 512:
        return None
    kinds = ["access_token", "refresh_token"]
    if hint == "refresh_token":
        kinds.reverse()
    for kind in kinds:
        column = (
            OAuthToken.access_token_hash
            if kind == "access_token"
            else OAuthToken.refresh_token_hash
        )
        row = db.session.scalar(
            sa.select(OAuthToken)
            .options(joinedload(OAuthToken.user), joinedload(OAuthToken.client))
            .where(column == digest(value))
        )
        if row is not None:
            return FoundToken(row, kind)
    return None


class CodeChallenge(BaseCodeChallenge):
    """PKCE with S256 only: required of public clients, checked whenever a challenge was sent."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: grants.BaseGrant, redirect_uri: str) -> None:
        data = grant.request.payload.data
        challenge, method = data.get("code_challenge"), data.get("code_challenge_method")
        if grant.request.client.is_public and not challenge:
            raise InvalidRequestError("This client must use PKCE: send a S256 'code_challenge'.")
        if challenge and method != "S256":
            # RFC 7636 would read a missing method as "plain", which is refused here.
            raise InvalidRequestError("Only 'code_challenge_method=S256' is supported.")
        super().validate_code_challenge(grant, redirect_uri)


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
    AUTHORIZATION_CODE_LENGTH = 48  # 48 characters of [A-Za-z0-9]: about 285 bits

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        data = request.payload.data
        challenge = data.get("code_challenge")
        db.session.add(
            AuthorizationCode(
                code_hash=digest(code),
                client_id=request.client.id,
                user_id=request.user.id,
                redirect_uri=data.get("redirect_uri") or "",
                scope=request.scope or "",
                code_challenge=challenge,
                code_challenge_method="S256" if challenge else None,
                expires_at=utcnow() + timedelta(seconds=current_app.config["AUTH_CODE_TTL"]),
            )
        )
        db.session.commit()

    def query_authorization_code(self, code: str, client: OAuthClient) -> AuthorizationCode | None:
        row = db.session.scalar(
            sa.select(AuthorizationCode).where(AuthorizationCode.code_hash == digest(code))
        )
        if row is None or row.client_id != client.id:
            return None
        if row.used_at is not None:
            # A replayed code may have been stolen: revoke what the first exchange produced.
            revoked = revoke_tokens(
                authorization_code_id=row.id, reason="authorization code reused"
            )
            record(
                "token.code_reuse_detected",
                subject=f"user:{row.user_id}",
                client=client.client_id,
                tokens_revoked=revoked,
            )
            db.session.commit()
            raise InvalidGrantError(
                "The authorization code was already used; the tokens issued for it are revoked."
            )
        if row.expires_at <= utcnow():
            raise InvalidGrantError("The authorization code has expired.")
        return row

    def authenticate_user(self, authorization_code: AuthorizationCode) -> User | None:
        user = authorization_code.user
        return None if user.is_disabled else user

    def create_token_response(self) -> tuple[int, dict[str, Any], list]:
        # Authlib saves the token before deleting the code, so two parallel exchanges could
        # both succeed. Claim the code first with a conditional UPDATE: one row, one winner.
        # The claim and the token insert commit together, so a crash leaves the code unused.
        claimed = db.session.execute(
            sa.update(AuthorizationCode)
            .where(
                AuthorizationCode.id == self.request.authorization_code.id,
                AuthorizationCode.used_at.is_(None),
            )
            .values(used_at=utcnow()),
            execution_options={"synchronize_session": False},
        )
        if claimed.rowcount != 1:
            db.session.rollback()
            raise InvalidGrantError("The authorization code has already been used.")
        return super().create_token_response()

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        # Kept (marked used) so that a replay can be recognised and its tokens revoked.
        pass


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
    # Rotation: every refresh returns a new refresh token and retires the old one.
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> OAuthToken | None:
        found = find_token(refresh_token, "refresh_token")
        if found is None or found.kind != "refresh_token":
            raise InvalidGrantError("The refresh token is not valid.")
        row = found.row
        if row.refreshed_at is not None:
            # A retired refresh token came back: someone holds a copy. End the whole family.
            revoked = revoke_tokens(family_id=row.family_id, reason="refresh token reused")
            record(
                "token.refresh_reuse_detected",
                subject=f"user:{row.user_id}",
                client=row.client.client_id,
                tokens_revoked=revoked,
            )
            db.session.commit()
            raise InvalidGrantError(
                "The refresh token was already used; every token of this grant is now revoked."
            )
        if not found.is_active():
            raise InvalidGrantError("The refresh token has expired or been revoked.")
        return row

    def authenticate_user(self, refresh_token: OAuthToken) -> User | None:
        user = refresh_token.user
        return None if user.is_disabled else user

    def revoke_old_credential(self, refresh_token: OAuthToken) -> None:
        # Of several parallel refreshes with one token, only the first UPDATE matches; the
        # others roll their new tokens back and get invalid_grant.
        now = utcnow()
        retired = db.session.execute(
            sa.update(OAuthToken)
            .where(
                OAuthToken.id == refresh_token.id,
                OAuthToken.refreshed_at.is_(None),
                OAuthToken.revoked_at.is_(None),
            )
            .values(refreshed_at=now, revoked_at=now),
            execution_options={"synchronize_session": False},
        )
        if retired.rowcount != 1:
            db.session.rollback()
            raise InvalidGrantError("The refresh token has already been used.")


class RevocationEndpoint(BaseRevocationEndpoint):
    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> FoundToken | None:
        return find_token(token_string, token_type_hint)

    def revoke_token(self, token: FoundToken, request: OAuth2Request) -> None:
        row = token.row
        if token.kind == "refresh_token":
            # RFC 7009 §2.1: revoking a refresh token ends the grant's access tokens too.
            revoke_tokens(family_id=row.family_id, reason="revoked by client")
        elif row.revoked_at is None:
            row.revoked_at = utcnow()
            record(
                "token.revoked", subject=f"user:{row.user_id}", count=1, reason="revoked by client"
            )


class IntrospectionEndpoint(BaseIntrospectionEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def query_token(self, token_string: str, token_type_hint: str | None) -> FoundToken | None:
        return find_token(token_string, token_type_hint)

    def check_permission(self, token: FoundToken, client: OAuthClient, request: Any) -> bool:
        # A client learns only about its own tokens; anything else is simply inactive.
        return token.check_client(client)

    def create_introspection_payload(self, token: FoundToken | None) -> dict[str, Any]:
        if token is None or not token.is_active():
            return {"active": False}
        row = token.row
        expires = row.access_expires_at if token.kind == "access_token" else row.refresh_expires_at
        return {
            "active": True,
            "client_id": row.client.client_id,
            "scope": row.scope,
            "sub": str(row.user_id),
            "username": row.user.email,
            "token_type": "Bearer" if token.kind == "access_token" else "refresh_token",
            "iat": int(row.issued_at.timestamp()),
            "exp": int(expires.timestamp()) if expires else None,
        }


class AuthorizationServer(FlaskAuthorizationServer):
    def create_oauth2_request(self, request: Any) -> OAuthRequest:
        return OAuthRequest()

    def query_client(self, client_id: str) -> OAuthClient | None:
        if not client_id or len(client_id) > 64:
            return None
        client = db.session.scalar(sa.select(OAuthClient).where(OAuthClient.client_id == client_id))
        # A disabled client is treated as unknown: no redirect, no tokens.
        return client if client and not client.is_disabled else None

    def handle_error_response(self, request: Any, error: OAuth2Error) -> Any:
        if error.error == "invalid_client":
            # One answer for an unknown client, a wrong secret or a missing one (RFC 6749 §5.2).
            error.status_code = 401
            error.description = "Client authentication failed: check the client ID and secret."
        elif error.error == "unsupported_token_type":
            error.status_code = 400  # RFC 7009 §2.2.1; Authlib answers 401
        return super().handle_error_response(request, error)

    def validate_requested_scope(self, scope: str | None) -> None:
        unknown = [name for name in (scope or "").split() if name not in SCOPES]
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
        )
        request.client.last_used_at = row.issued_at
        record(
            "token.refreshed" if previous else "token.issued",
            actor=request.user,
            subject=f"client:{request.client.client_id}",
            scope=row.scope,
        )


def generate_bearer_token(
    grant_type: str,
    client: OAuthClient,
    user: User | None = None,
    scope: str | None = None,
    expires_in: int | None = None,
    include_refresh_token: bool = True,
) -> dict[str, Any]:
    return token_response(scope or "", include_refresh_token=include_refresh_token)


def _build_server() -> AuthorizationServer:
    authorization_server = AuthorizationServer()
    authorization_server.register_grant(AuthorizationCodeGrant, [CodeChallenge(required=True)])
    authorization_server.register_grant(RefreshTokenGrant)
    authorization_server.register_endpoint(RevocationEndpoint)
    authorization_server.register_endpoint(IntrospectionEndpoint)
    return authorization_server


# One server for the process; it reads settings from ``current_app`` on each request.
server = _build_server()


def init_app(app: Flask) -> None:
    # Authlib's debug lines print whole token responses; keep them out of any log level.
    logging.getLogger("authlib").setLevel(logging.WARNING)
    server.init_app(app)
    server.register_token_generator("default", generate_bearer_token)
