"""The grants this server offers, where Authlib's defaults fall short of the security bar.

Atomic code consumption, S256-only PKCE, and refresh rotation with reuse detection.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, NoReturn

import sqlalchemy as sa
from authlib.oauth2 import OAuth2Request
from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError, grants
from authlib.oauth2.rfc7636 import CodeChallenge as BaseCodeChallenge
from flask import current_app

from plugin.accounts.models import User
from plugin.audit.services import record
from plugin.clock import utcnow
from plugin.database import discard_work, rows_affected, write_apart
from plugin.digests import digest
from plugin.extensions import db
from plugin.oauth.models import AuthorizationCode, OAuthClient, OAuthToken
from plugin.oauth.resources.audiences import InvalidTargetError, requested_resource
from plugin.oauth.services import revoke_tokens
from plugin.oauth.tokens.issue import open_retry_answer, seal_retry_answer
from plugin.oauth.tokens.lookup import (
    find_token_row,
    is_access_token_active,
    is_refresh_token_active,
)

CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


def revoke_and_refuse(
    description: str, *, event: str, reason: str, subject: str, client: str, **filters: Any
) -> NoReturn:
    """Refuse the request, and revoke the tokens a replayed credential produced.

    The endpoint rolls back whatever a failed request did; the revocation must survive it, so
    it is saved apart, before the refusal leaves (``write_apart``).
    """

    def revoke(_succeeded: bool) -> None:
        revoked = revoke_tokens(reason=reason, **filters)
        record(event, subject=subject, client=client, tokens_revoked=revoked)

    write_apart(revoke)
    raise InvalidGrantError(description)


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


def check_same_resource(request: OAuth2Request, bound: str | None) -> None:
    """A token request may repeat the grant's resource, never name another one."""
    if request.payload.datalist.get("resource") and requested_resource(request) != bound:
        raise InvalidTargetError("This grant was issued for another resource.")


class ResourceIndicator:
    """Authorization-request extension: an unknown ``resource`` is answered with
    ``invalid_target`` at the client's redirect URI, like any other request error."""

    def __call__(self, grant: grants.BaseGrant) -> None:
        grant.register_hook("after_validate_authorization_request_payload", self.validate)

    def validate(self, grant: grants.BaseGrant, _result: object) -> None:
        requested_resource(grant.request)


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
    AUTHORIZATION_CODE_LENGTH = 48  # 48 characters of [A-Za-z0-9]: about 285 bits

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        # Flushed only: the authorize view commits the code together with the consent.
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
                resource=requested_resource(request),
                expires_at=utcnow() + timedelta(seconds=current_app.config["AUTH_CODE_TTL"]),
            )
        )
        db.session.flush()

    def query_authorization_code(self, code: str, client: OAuthClient) -> AuthorizationCode | None:
        row: AuthorizationCode | None = db.session.scalar(
            sa.select(AuthorizationCode).where(AuthorizationCode.code_hash == digest(code))
        )
        if row is None or row.client_id != client.id:
            return None
        if row.used_at is not None:
            # A replayed code may have been stolen: revoke what the first exchange produced.
            revoke_and_refuse(
                "The authorization code was already used; the tokens issued for it are revoked.",
                event="token.code_reuse_detected",
                reason="authorization code reused",
                subject=f"user:{row.user_id}",
                client=client.client_id,
                authorization_code_id=row.id,
            )
        if row.expires_at <= utcnow():
            raise InvalidGrantError("The authorization code has expired.")
        return row

    def authenticate_user(self, authorization_code: AuthorizationCode) -> User | None:
        user = authorization_code.user
        return None if user.is_disabled else user

    def validate_token_request(self) -> None:
        super().validate_token_request()
        check_same_resource(self.request, self.request.authorization_code.resource)

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        # Authlib saves the token before deleting the code, so two parallel exchanges could
        # both succeed. Claim the code first with a conditional UPDATE: one row, one winner.
        # The claim and the token insert commit together, so a crash leaves the code unused.
        claimed = rows_affected(
            sa.update(AuthorizationCode)
            .where(
                AuthorizationCode.id == self.request.authorization_code.id,
                AuthorizationCode.used_at.is_(None),
            )
            .values(used_at=utcnow()),
            synchronize=False,
        )
        if claimed != 1:
            discard_work()
            raise InvalidGrantError("The authorization code has already been used.")
        response: tuple[int, dict[str, Any], list[tuple[str, str]]]
        response = super().create_token_response()
        return response

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        # Kept (marked used) so that a replay can be recognised and its tokens revoked.
        pass


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
    # Rotation: every refresh returns a new refresh token and retires the old one.
    INCLUDE_NEW_REFRESH_TOKEN = True

    # Set when a public client retries the refresh it just made: the same pair is answered.
    retry_answer: dict[str, Any] | None = None

    def authenticate_refresh_token(self, refresh_token: str) -> OAuthToken | None:
        row = find_token_row(refresh_token, "refresh_token")
        if row is None:
            raise InvalidGrantError("The refresh token is not valid.")
        if row.refreshed_at is not None:
            self.retry_answer = self._answer_retry(row, refresh_token)
            if self.retry_answer is not None:
                return row
            # A retired refresh token came back: someone holds a copy. End the whole family.
            revoke_and_refuse(
                "The refresh token was already used; every token of this grant is now revoked.",
                event="token.refresh_reuse_detected",
                reason="refresh token reused",
                subject=f"user:{row.user_id}",
                client=row.client.client_id,
                family_id=row.family_id,
            )
        if not is_refresh_token_active(row):
            raise InvalidGrantError("The refresh token has expired or been revoked.")
        return row

    def _answer_retry(self, row: OAuthToken, refresh_token: str) -> dict[str, Any] | None:
        """The pair this token was rotated into, if this is a benign retry within the grace.

        A public client that lost the answer to its refresh (a dropped connection) sends the
        old token again; within ``REFRESH_RETRY_GRACE`` seconds, and while the new pair is
        still unused, it gets that same pair instead of a revoked grant.
        """
        grace = timedelta(seconds=current_app.config["REFRESH_RETRY_GRACE"])
        if not row.retry_answer or row.refreshed_at is None or row.refreshed_at + grace < utcnow():
            return None
        body = open_retry_answer(row.retry_answer, refresh_token)
        successor = find_token_row(body["refresh_token"], "refresh_token") if body else None
        if body is None or successor is None or successor.family_id != row.family_id:
            return None
        if not is_refresh_token_active(successor) or not is_access_token_active(successor):
            return None
        remaining = successor.access_expires_at - utcnow()
        return {**body, "expires_in": max(0, int(remaining.total_seconds()))}

    def authenticate_user(self, refresh_token: OAuthToken) -> User | None:
        user = refresh_token.user
        return None if user.is_disabled else user

    def validate_token_request(self) -> None:
        super().validate_token_request()
        check_same_resource(self.request, self.request.refresh_token.resource)

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        if self.retry_answer is not None:
            record(
                "token.refresh_retried",
                subject=f"user:{self.request.refresh_token.user_id}",
                client=self.request.client.client_id,
            )
            return 200, self.retry_answer, self.TOKEN_RESPONSE_HEADER
        response: tuple[int, dict[str, Any], list[tuple[str, str]]]
        response = super().create_token_response()
        return response

    def revoke_old_credential(self, refresh_token: OAuthToken) -> None:
        # Of several parallel refreshes with one token, only the first UPDATE matches; the
        # others roll their new tokens back and get invalid_grant.
        now = utcnow()
        answer = None
        issued: dict[str, Any] | None = getattr(self.request, "issued_token", None)
        if refresh_token.client.is_public and issued and current_app.config["REFRESH_RETRY_GRACE"]:
            answer = seal_retry_answer(issued, self.request.form["refresh_token"])
        retired = rows_affected(
            sa.update(OAuthToken)
            .where(
                OAuthToken.id == refresh_token.id,
                OAuthToken.refreshed_at.is_(None),
                OAuthToken.revoked_at.is_(None),
            )
            .values(refreshed_at=now, revoked_at=now, retry_answer=answer),
            synchronize=False,
        )
        if retired != 1:
            discard_work()
            raise InvalidGrantError("The refresh token has already been used.")
