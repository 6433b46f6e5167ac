"""The apps people know by name (ChatGPT, Claude): their exact redirect URIs, which mark a
self-registered client as "reviewed" on the consent page, and which alone may carry the name.

A host alone proves little (any path on it might be an open redirect or a user's page), so
only the exact callbacks each vendor uses count (OA-32).
"""

from __future__ import annotations

import re
import unicodedata

# The redirect URIs seen from each vendor (``reference/mcp.md``); ChatGPT's connector and
# GPT Action callbacks carry a per-connector or per-GPT id.
KNOWN_REDIRECTS: dict[str, tuple[re.Pattern[str], ...]] = {
    "ChatGPT": (
        re.compile(
            r"https://(chatgpt\.com|chat\.openai\.com)/aip/[A-Za-z0-9_-]{1,128}/oauth/callback"
        ),
        re.compile(r"https://chatgpt\.com/connector_platform_oauth_redirect"),
        re.compile(r"https://chatgpt\.com/connector/oauth/[A-Za-z0-9_-]{1,128}"),
    ),
    "Claude": (
        re.compile(r"https://claude\.ai/api/mcp/auth_callback"),
        re.compile(r"https://claude\.com/api/mcp/auth_callback"),
    ),
}


def known_app_at(redirect_uri: str | None) -> str | None:
    """The app whose exact callback ``redirect_uri`` is, or None."""
    for app, patterns in KNOWN_REDIRECTS.items():
        if redirect_uri and any(pattern.fullmatch(redirect_uri) for pattern in patterns):
            return app
    return None


def impersonation_problem(name: str, redirect_uris: list[str]) -> str | None:
    """Say why a self-registered client may not use ``name``, or None.

    A name that claims a known app is kept for clients whose every callback is that app's.
    """
    folded = unicodedata.normalize("NFKC", name).casefold()
    for app in KNOWN_REDIRECTS:
        if app.casefold() in folded and any(known_app_at(uri) != app for uri in redirect_uris):
            return f"Only {app} itself may use the name {app!r}."
    return None
