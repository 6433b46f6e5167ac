"""Talking to upstream providers through Authlib's Flask client.

State, nonce and PKCE (S256) go with every authorization request; Authlib checks the state
against the session and validates the ID token (signature by the provider's keys, ``iss``,
``aud``, ``nonce``, expiry). Every call to a provider is bounded by ``UPSTREAM_TIMEOUT``.
Each preset says who the person is and whether the address is verified in its own way:
``identity_from`` turns those into one ``Identity``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import requests
from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from authlib.integrations.flask_client.apps import FlaskOAuth2App
from flask import Flask, current_app, request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from plugin.accounts.upstream.providers import Provider

REGISTRY = "plugin.accounts.upstream.registry"
PROVIDERS = "plugin.accounts.upstream.providers"
APPLE_AUDIENCE = "https://appleid.apple.com"
SELECT_ACCOUNT = ("google", "microsoft", "github")


class UpstreamError(Exception):
    """The sign-in at the provider did not give a usable identity; ``cause`` names why."""

    def __init__(self, cause: str, detail: str = "") -> None:
        super().__init__(detail or cause)
        self.cause = cause
        self.detail = detail


@dataclass(frozen=True)
class Identity:
    provider: str
    subject: str
    email: str | None
    email_verified: bool
    tenant: str | None = None


def init_client(app: Flask, providers: dict[str, Provider]) -> None:
    oauth = OAuth(app)
    for provider in providers.values():
        kwargs: dict[str, Any] = {
            "client_kwargs": {
                "scope": provider.scope,
                "code_challenge_method": "S256",
                "default_timeout": app.config["UPSTREAM_TIMEOUT"],
            },
        }
        if provider.is_openid:
            kwargs["server_metadata_url"] = provider.discovery_url
        else:
            kwargs["authorize_url"] = f"{provider.web_url}/login/oauth/authorize"
            kwargs["access_token_url"] = f"{provider.web_url}/login/oauth/access_token"
            kwargs["api_base_url"] = provider.api_url + "/"
        if provider.preset in ("apple", "github"):
            # Both take the client's credentials in the token request's form only.
            kwargs["client_kwargs"]["token_endpoint_auth_method"] = "client_secret_post"  # noqa: S105
        if provider.preset == "apple":
            # Apple answers with a POST to the callback, and only then with the address.
            kwargs["authorize_params"] = {"response_mode": "form_post"}
        oauth.register(
            provider.name,
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            **kwargs,
        )
    app.extensions[REGISTRY] = oauth
    app.extensions[PROVIDERS] = providers


def configured_providers() -> dict[str, Provider]:
    providers: dict[str, Provider] = current_app.extensions.get(PROVIDERS, {})
    return providers


def _app(provider: Provider) -> FlaskOAuth2App:
    client: FlaskOAuth2App = current_app.extensions[REGISTRY].create_client(provider.name)
    return client


def _bounded(call: Any, *args: Any, **kwargs: Any) -> Any:
    """Run one exchange with the provider; its slowness or absence becomes an UpstreamError."""
    try:
        return call(*args, **kwargs)
    except requests.Timeout:
        raise UpstreamError("timeout", "the provider did not answer in time") from None
    except (requests.RequestException, ValueError) as error:
        raise UpstreamError("unreachable", type(error).__name__) from None


def authorization_url(
    provider: Provider, redirect_uri: str, *, again: bool = False
) -> tuple[str, str]:
    """The provider's authorization URL and its state; the state's data (nonce, PKCE
    verifier) is kept in the session by Authlib. ``again``: after a refusal, ask the provider
    to let the person pick another account, or at least sign in afresh."""
    client = _app(provider)
    metadata = _bounded(client.load_server_metadata) if provider.is_openid else {}
    extra = {"prompt": retry_prompt(provider, metadata)} if again else {}
    found = _bounded(client.create_authorization_url, redirect_uri, **extra)
    client.save_authorize_data(redirect_uri=redirect_uri, **found)
    return found["url"], found["state"]


def retry_prompt(provider: Provider, metadata: dict[str, Any]) -> str:
    """``select_account`` where the provider offers an account chooser (Google, Microsoft and
    GitHub document it; others may list it in their metadata), else ``login``."""
    offered = metadata.get("prompt_values_supported") or ()
    if provider.preset in SELECT_ACCOUNT or "select_account" in offered:
        return "select_account"
    return "login"


def finish(provider: Provider) -> Identity:
    """Exchange the callback's code and say who signed in; UpstreamError if anything fails."""
    params = request.form if request.method == "POST" else request.args
    error = params.get("error")
    if error:
        cause = "cancelled" if error == "access_denied" else "refused"
        raise UpstreamError(cause, f"{error}: {params.get('error_description', '')}"[:300])
    client = _app(provider)
    metadata = _bounded(client.load_server_metadata) if provider.is_openid else {}
    _check_response_issuer(metadata, params.get("iss"))
    if provider.preset == "apple":
        client.client_secret = apple_client_secret(provider)
    try:
        options = _claims_options(provider, metadata) if provider.is_openid else None
        token = client.authorize_access_token(claims_options=options)
    except requests.Timeout:
        raise UpstreamError("timeout", "the provider did not answer in time") from None
    except requests.RequestException as problem:
        raise UpstreamError("unreachable", type(problem).__name__) from None
    except JoseError as problem:
        raise UpstreamError("invalid_token", f"{type(problem).__name__}: {problem}"[:300]) from None
    except MismatchingStateError:
        raise UpstreamError("state", "the state does not match this browser") from None
    except OAuthError as problem:
        raise UpstreamError("refused", f"{problem.error}: {problem.description}"[:300]) from None
    if provider.is_openid:
        claims = token.get("userinfo")
        if not claims:
            raise UpstreamError("invalid_token", "the provider sent no ID token")
        claims = dict(claims)
        if "email" not in claims and metadata.get("userinfo_endpoint"):
            claims |= _userinfo(client, token, claims["sub"])
        return identity_from_claims(provider, claims)
    return _github_identity(provider, client, token)


def _userinfo(client: FlaskOAuth2App, token: dict[str, Any], subject: str) -> dict[str, Any]:
    """The address claims from the UserInfo endpoint, for providers that keep them out of
    the ID token; only if they are about the ID token's subject (OIDC Core §5.3.2)."""
    info = dict(_bounded(client.userinfo, token=token))
    if info.get("sub") != subject:
        raise UpstreamError("invalid_token", "the UserInfo answer is about someone else")
    return {key: info[key] for key in ("email", "email_verified") if key in info}


def _check_response_issuer(metadata: dict[str, Any], sent: str | None) -> None:
    """RFC 9207: the ``iss`` beside the code names the provider we sent the person to."""
    issuer = metadata.get("issuer")
    if sent is None:
        if metadata.get("authorization_response_iss_parameter_supported"):
            raise UpstreamError("invalid_token", "the answer carries no iss")
        return
    if "{tenantid}" not in str(issuer) and sent != issuer:
        raise UpstreamError("invalid_token", f"the answer comes from {sent[:100]!r}")


def _claims_options(provider: Provider, metadata: dict[str, Any]) -> dict[str, Any]:
    """What the ID token's ``iss`` and ``aud`` must be. Authlib checks ``aud`` only through
    ``azp``, so an ID token for another client that names us as its ``azp`` would pass:
    our client id must be among its audiences (OIDC Core §3.1.3.7, step 3)."""
    audience = {"essential": True, "values": [provider.client_id]}
    issuer = str(metadata.get("issuer", ""))
    if "{tenantid}" not in issuer:
        return {"iss": {"essential": True, "values": [issuer]}, "aud": audience}

    # Microsoft's multi-tenant issuer: the tenant the token names must be the one it is from.
    def tenant_issuer(claims: Any, value: Any) -> bool:
        return bool(value) and value == issuer.replace("{tenantid}", str(claims.get("tid")))

    return {"iss": {"essential": True, "validate": tenant_issuer}, "aud": audience}


def _verified(value: Any) -> bool:
    # Apple sends "true" as a string; the others a JSON boolean.
    return value is True or value == "true"


def identity_from_claims(provider: Provider, claims: dict[str, Any]) -> Identity:
    """Who the ID token names, with the address only as verified as the provider says."""
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    tenant = str(claims["tid"]) if claims.get("tid") else None
    if provider.preset == "microsoft":
        # Entra ID vouches for no address on its own: verified when the domain's owner is
        # (xms_edov) or the account belongs to a tenant the operator named.
        verified = _verified(claims.get("xms_edov")) or bool(tenant and tenant in provider.tenants)
    else:
        verified = _verified(claims.get("email_verified"))
    return Identity(provider.name, str(claims["sub"])[:255], email, verified, tenant)


def _github_identity(provider: Provider, client: FlaskOAuth2App, token: dict[str, Any]) -> Identity:
    user = _bounded(client.get, "user", token=token)
    emails = _bounded(client.get, "user/emails", token=token)
    if user.status_code != 200 or emails.status_code != 200:
        raise UpstreamError("refused", f"the API answered {user.status_code}/{emails.status_code}")
    profile, addresses = _bounded(user.json), _bounded(emails.json)
    if not isinstance(profile, dict) or not isinstance(addresses, list) or "id" not in profile:
        raise UpstreamError("refused", "the API answered something else than a user")
    usable = [a for a in addresses if isinstance(a, dict) and isinstance(a.get("email"), str)]
    # The primary address only, as verified as GitHub says: it is the one the person chose to
    # be known by. A verified secondary address is never picked for them, since it could
    # open (or ask to link) an account here they did not mean to use.
    primary = next((a for a in usable if a.get("primary") is True), None)
    if primary is None:
        return Identity(provider.name, str(profile["id"]), None, False)
    return Identity(
        provider.name, str(profile["id"]), primary["email"], primary.get("verified") is True
    )


def apple_client_secret(provider: Provider) -> str:
    """Apple's client secret: a short-lived JWT signed with the team's key (ES256)."""
    now = int(time.time())
    claims = {
        "iss": provider.team_id,
        "iat": now,
        "exp": now + 300,
        "aud": APPLE_AUDIENCE,
        "sub": provider.client_id,
    }
    key = ECKey.import_key(provider.private_key or "")
    return jwt.encode({"alg": "ES256", "kid": provider.key_id}, claims, key)
