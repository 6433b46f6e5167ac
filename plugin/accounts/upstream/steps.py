"""What each outcome of an upstream sign-in means: the person's page and the operator's trace.

Accounts know nothing of OAuth: the flow sends ``upstream_step`` with the pending ``next``
path, and the OAuth feature turns it into a step of the connection trace of the install
waiting behind the login (``plugin.oauth.traces.authorization``).
"""

from __future__ import annotations

from dataclasses import dataclass

from blinker import Namespace

_signals = Namespace()
# Sent with the provider's name; keywords: next_target, ok, cause, reason, fix, user.
upstream_step = _signals.signal("upstream-step")


@dataclass(frozen=True)
class Cause:
    title: str
    # What the person reads ({provider} is the provider's label).
    message: str
    # What the operator reads in the trace.
    fix: str
    status: int = 400


CAUSES = {
    "cancelled": Cause(
        "Sign-in cancelled",
        "You cancelled the sign-in at {provider}. Try again, or choose another way to sign in.",
        "Nothing to change: the person chose not to sign in at the provider.",
    ),
    "refused": Cause(
        "{provider} refused the sign-in",
        "{provider} did not let you sign in here. Try again, or choose another way to sign in.",
        "Check the provider's client settings (client id, secret, redirect URI "
        "/login/with/<name>/callback) and the provider's logs.",
    ),
    "timeout": Cause(
        "{provider} is not answering",
        "{provider} did not answer in time. Wait a moment, then try again.",
        "The provider was slower than UPSTREAM_TIMEOUT seconds; check that this server reaches it.",
        504,
    ),
    "unreachable": Cause(
        "{provider} cannot be reached",
        "We could not reach {provider} just now. Wait a moment, then try again.",
        "This server could not reach the provider (DNS, network, TLS or its discovery URL).",
        502,
    ),
    "state": Cause(
        "This sign-in has expired",
        "This sign-in link was already used, has expired or was started in another browser. "
        "Start again from here.",
        "The answer's state matched no sign-in this browser started (replayed, swapped, or "
        "the cookie was lost); nothing was signed in.",
    ),
    "invalid_token": Cause(
        "{provider} sent an answer we cannot trust",
        "The answer from {provider} did not hold up, so nobody was signed in. Try again.",
        "The ID token or answer failed validation (issuer, audience, nonce, signature or "
        "expiry); check the provider's discovery URL and client id.",
    ),
    "unverified": Cause(
        "Your e-mail address is not verified",
        "{provider} does not say your e-mail address is verified, so we cannot use it for "
        "an account here. Verify it at {provider}, or choose another way to sign in.",
        "The provider's answer carries no verified e-mail address; accounts are made and "
        "linked only from verified ones.",
        403,
    ),
    "domain": Cause(
        "This account is not allowed here",
        "Only accounts of certain organisations may sign in here, and yours is not one of "
        "them. Sign in with your organisation's account, or ask whoever runs this service.",
        "The address's domain is not in UPSTREAM_<NAME>_ALLOWED_DOMAINS.",
        403,
    ),
    "tenant": Cause(
        "This account is not allowed here",
        "Only accounts of certain organisations may sign in here, and yours is not one of "
        "them. Sign in with your organisation's account, or ask whoever runs this service.",
        "The account's tenant (tid) is not in UPSTREAM_<NAME>_TENANTS.",
        403,
    ),
    "linked_elsewhere": Cause(
        "This account is already in use",
        "Your account at {provider} already signs in to another account here.",
        "The upstream identity is linked to another account.",
        409,
    ),
    "disabled": Cause(
        "This account is disabled",
        "The account this sign-in opens is disabled. Ask whoever runs this service.",
        "The account is disabled (Admin → Users).",
        403,
    ),
}
