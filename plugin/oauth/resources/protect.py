"""``require_oauth``: the one decorator every API view uses to demand a bearer token.

API tokens are those issued without ``resource`` (RFC 8707); a token bound to another
resource (``/mcp``) is refused here, as an API token is refused there.
"""

from __future__ import annotations

from typing import Any

from authlib.integrations.flask_oauth2 import ResourceProtector, current_token
from authlib.integrations.flask_oauth2.signals import token_authenticated
from authlib.oauth2.rfc6749 import MissingAuthorizationError, UnsupportedTokenTypeError
from authlib.oauth2.rfc6749.requests import JsonRequest
from authlib.oauth2.rfc6750 import BearerTokenValidator, InsufficientScopeError, InvalidTokenError
from flask import g, request

from plugin.oauth.resources.audiences import API_PATH, api_resource, metadata_url
from plugin.oauth.resources.guard import (
    accepted_at_resource,
    challenge,
    refuse_audience,
    refused_at_resource,
)
from plugin.oauth.tokens.lookup import PresentedToken, find_access_token


class TokenValidator(BearerTokenValidator):
    """Look a bearer token up by digest, with its user's and client's state, in one statement."""

    def authenticate_token(self, token_string: str) -> PresentedToken | None:
        return find_access_token(token_string)

    def validate_token(
        self, token: PresentedToken | None, scopes: list[str] | None, request: Any
    ) -> None:
        if token is not None and not token.is_active():
            refused_at_resource.send(token, presented_at=api_resource(), needed=None)
            raise InvalidTokenError(realm=self.realm, extra_attributes=self.extra_attributes)
        if token is not None and token.resource is not None:
            refuse_audience(token, api_resource())
            raise InvalidTokenError(description="The access token was issued for another resource.")
        try:
            super().validate_token(token, scopes, request)
        except InsufficientScopeError:
            if token is not None:
                missing = [s for s in scopes or [] if s not in token.scope.split()]
                refused_at_resource.send(token, presented_at=api_resource(), needed=missing)
            raise
        if token is not None:
            accepted_at_resource.send(token, presented_at=api_resource())


class Protector(ResourceProtector):
    def acquire_token(self, scopes: list[str] | str | None = None, **kwargs: Any) -> Any:
        """Authlib's ``acquire_token``, on a request object that carries no URL.

        Bearer validation reads only the headers; Authlib's own request object first builds
        the full URL, which took about 5% of a protected read.
        """
        oauth_request = JsonRequest(request.method, "", request.headers)
        kwargs["scopes"] = [scopes] if isinstance(scopes, str) else scopes
        token = self.validate_request(request=oauth_request, **kwargs)
        token_authenticated.send(self, token=token)
        g.authlib_server_oauth2_token = token
        return token

    def raise_error_response(self, error: Exception) -> None:
        # No bearer token at all (none, or another scheme): a challenge with no error code,
        # the same as /mcp answers (RFC 6750 §3.1).
        if isinstance(error, MissingAuthorizationError | UnsupportedTokenTypeError):
            raise challenge(401, None, "An access token is required.", [], API_PATH)
        if isinstance(error, InvalidTokenError):
            # RFC 9728 §5.1: tell the client where to learn how to get a token.
            error.extra_attributes = {"resource_metadata": metadata_url(API_PATH)}
        super().raise_error_response(error)


require_oauth = Protector()
require_oauth.register_token_validator(TokenValidator())

__all__ = ["current_token", "require_oauth"]
