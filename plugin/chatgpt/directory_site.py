"""What the deployment serves a directory reviewer: a public https origin, the domain
challenge, OAuth metadata, and the policy pages with a contact address."""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any
from urllib.parse import urlsplit

from plugin.api.checks import FetchError
from plugin.chatgpt.directory_submission import CHALLENGE_PATH, Fetch, Submission
from plugin.oauth.resources.audiences import MCP_PATH, PRM_PATH

POLICY_PATHS = {"privacy": "/privacy", "terms": "/terms", "support": "/support"}
PLACEHOLDER_DOMAINS = ("example.com", "example.org", "example.net")
PLACEHOLDER_SUFFIXES = (".example", ".test", ".invalid", ".localhost", "localhost")
SOURCE = re.compile(r'<meta name="policy-source" content="([^"]*)"')
PUBLISHER = re.compile(r'<meta name="publisher" content="([^"]*)"')
MAILTO = re.compile(r'href="mailto:([^"?]+)')


def check_base_url(found: Submission) -> None:
    parts = urlsplit(found.origin)
    host = parts.hostname or ""
    if parts.scheme != "https":
        found.problem(
            "base_url",
            f"{found.origin} is not https: the directories accept only a public https server.",
            "serve it behind TLS and set PLUGIN_BASE_URL=https://<your host> (or pass that "
            "BASE_URL to this command).",
        )
    elif _is_private(host):
        found.problem(
            "base_url",
            f"{host} is not reachable from the internet.",
            "deploy on a public host name and set PLUGIN_BASE_URL to it.",
        )


def _is_private(host: str) -> bool:
    if host == "localhost" or host.endswith(PLACEHOLDER_SUFFIXES):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return not address.is_global


def check_challenge(found: Submission, fetch: Fetch) -> None:
    try:
        token = fetch(found.origin + CHALLENGE_PATH).strip()
    except FetchError:
        token = ""
    if not token:
        found.problem(
            "challenge",
            f"{CHALLENGE_PATH} serves no domain-verification token.",
            "copy the token from OpenAI's app submission form, then run `flask --app plugin "
            "settings set openai-apps-challenge-token TOKEN` (or Admin → Settings, or "
            "OPENAI_APPS_CHALLENGE_TOKEN).",
        )


def _json(fetch: Fetch, url: str) -> Any:
    try:
        return json.loads(fetch(url))
    except (FetchError, ValueError):
        return None


def check_authorization(found: Submission, fetch: Fetch) -> None:
    resource = _json(fetch, found.origin + PRM_PATH + MCP_PATH)
    if not isinstance(resource, dict):
        found.problem(
            "mcp",
            f"{found.mcp_url} has no protected-resource metadata: MCP is off or unreachable.",
            "set MCP_ENABLED=true; `flask --app plugin check --connectors` follows each step.",
        )
    metadata = _json(fetch, found.origin + "/.well-known/oauth-authorization-server")
    if not isinstance(metadata, dict):
        found.problem(
            "auth",
            "the authorization-server metadata cannot be read.",
            "run `flask --app plugin check --connectors` for the failing step.",
        )
        return
    kinds = []
    if metadata.get("registration_endpoint"):
        kinds.append("dynamic client registration (RFC 7591)")
    if metadata.get("client_id_metadata_document_supported"):
        kinds.append("Client ID Metadata Documents")
    pkce = "S256" in (metadata.get("code_challenge_methods_supported") or [])
    scopes = " ".join(metadata.get("scopes_supported") or [])
    found.auth = (
        "OAuth 2.1 authorization code"
        + (" with PKCE (S256)" if pkce else "")
        + f"; clients: {', '.join(kinds) or 'registered by the operator only'}"
        + (f"; scopes: {scopes}" if scopes else "")
    )
    if not pkce:
        found.problem(
            "auth", "PKCE (S256) is not advertised.", "advertise code_challenge_methods_supported."
        )
    if not kinds:
        found.problem(
            "auth",
            "ChatGPT and Claude cannot register themselves as clients.",
            "set OAUTH_DCR_ENABLED=true or OAUTH_CIMD_ENABLED=true.",
        )


def check_policies(found: Submission, fetch: Fetch) -> None:
    for name, path in POLICY_PATHS.items():
        url = found.origin + path
        found.policies[name] = url
        try:
            html = fetch(url)
        except FetchError as error:
            found.problem(f"{name}", f"{url} is unreachable ({error}).", "serve the page publicly.")
            continue
        source = SOURCE.search(html)
        built_in = source is not None and source.group(1) == "built-in"
        file = f"<instance>/policies/{name}.md"
        if built_in and not PUBLISHER.search(html):
            found.problem(
                name,
                f"{url} is the built-in text and names no publisher; reviewers match it to "
                "the publisher they verified.",
                f"set PLUGIN_PUBLISHER to your name or company, or write your own {file}.",
            )
        elif built_in:
            extra = " (add what your hosting keeps: backups, logs)" if name == "privacy" else ""
            found.problem(
                name,
                f"{url} is still the built-in text.",
                f"read it as your own, or write your own {file}{extra}.",
                "warning",
            )
        if name == "support":
            address = MAILTO.search(html)
            found.contact = address.group(1) if address else None
    _contact(found)


def _contact(found: Submission) -> None:
    address = found.contact
    domain = (address or "").rpartition("@")[2].lower()
    if not address:
        found.problem(
            "support", "the support page gives no e-mail address.", "add a mailto: link to it."
        )
    elif domain in PLACEHOLDER_DOMAINS or domain.endswith(PLACEHOLDER_SUFFIXES):
        found.problem(
            "contact",
            f"{address} is a placeholder: reviewers and people must reach someone.",
            "set PLUGIN_CONTACT_EMAIL to an address a person reads.",
        )
