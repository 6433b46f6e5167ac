"""RFC 7009 revocation and RFC 7662 introspection, on the shared token lookup."""

from __future__ import annotations

from typing import Any

from authlib.oauth2 import OAuth2Request
from authlib.oauth2.rfc7009 import RevocationEndpoint as BaseRevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint as BaseIntrospectionEndpoint

from plugin.audit.services import record
from plugin.clock import utcnow
from plugin.oauth.models import OAuthClient
from plugin.oauth.server.grants import CLIENT_AUTH_METHODS
from plugin.oauth.services import revoke_tokens
from plugin.oauth.tokens.lookup import FoundToken, find_token

INTROSPECTION_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


class RevocationEndpoint(BaseRevocationEndpoint):
    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def authenticate_token(self, request: OAuth2Request, client: OAuthClient) -> FoundToken | None:
        self.check_params(request, client)
        token = find_token(request.form["token"], request.form.get("token_type_hint"))
        # Another client's token is answered like an unknown one (RFC 7009 §2.2), so the
        # endpoint tells nobody which values are live tokens.
        return token if token is not None and token.check_client(client) else None

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
    CLIENT_AUTH_METHODS = INTROSPECTION_AUTH_METHODS

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
