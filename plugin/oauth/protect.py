"""``require_oauth``: the one decorator every API view uses to demand a bearer token."""

from __future__ import annotations

import sqlalchemy as sa
from authlib.integrations.flask_oauth2 import ResourceProtector, current_token
from authlib.oauth2.rfc6749 import MissingAuthorizationError, UnsupportedTokenTypeError
from authlib.oauth2.rfc6750 import BearerTokenValidator, InvalidTokenError
from sqlalchemy.orm import joinedload

from plugin.clock import utcnow
from plugin.digests import digest
from plugin.extensions import db
from plugin.oauth.models import OAuthToken

# Built once: every API call runs it, and composing it costs as much as running it.
TOKEN_BY_DIGEST = (
    sa.select(OAuthToken)
    .options(joinedload(OAuthToken.user), joinedload(OAuthToken.client))
    .where(OAuthToken.access_token_hash == sa.bindparam("digest"))
)


class TokenValidator(BearerTokenValidator):
    """Look a bearer token up by digest, with its user and client, in one statement."""

    def authenticate_token(self, token_string: str) -> OAuthToken | None:
        if not token_string or len(token_string) > 512:
            return None
        return db.session.scalar(TOKEN_BY_DIGEST, {"digest": digest(token_string)})

    def validate_token(self, token, scopes, request):  # noqa: ANN001, ANN201
        if token is not None and not is_token_active(token):
            raise InvalidTokenError(realm=self.realm, extra_attributes=self.extra_attributes)
        super().validate_token(token, scopes, request)


def is_token_active(token: OAuthToken) -> bool:
    """An access token works while unexpired, unrevoked, and its user and client are enabled."""
    return (
        token.revoked_at is None
        and token.access_expires_at > utcnow()
        and not token.user.is_disabled
        and not token.client.is_disabled
    )


class Protector(ResourceProtector):
    def raise_error_response(self, error):  # noqa: ANN001, ANN201
        # A missing or non-Bearer credential is answered like an invalid token (RFC 6750 §3.1).
        if isinstance(error, MissingAuthorizationError | UnsupportedTokenTypeError):
            error = InvalidTokenError(description="An access token is required.")
        super().raise_error_response(error)


require_oauth = Protector()
require_oauth.register_token_validator(TokenValidator())

__all__ = ["current_token", "is_token_active", "require_oauth"]
