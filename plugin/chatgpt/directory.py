"""``flask check --directory``: what OpenAI's and Anthropic's directory submissions ask for,
read from this deployment, and every problem a reviewer would reject, each with its fix.

Pages and metadata are fetched the way ``check`` fetches the manifest (over HTTP from a
BASE_URL, else in-process); tools, annotations, example prompts and UIs come from the
operation registry, the declarations the served tools and UI resources are built from.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from jinja2 import TemplateError

from plugin.accounts.reviewers import list_reviewers
from plugin.api.checks import FetchError, Finding
from plugin.api.declarations import OperationUi
from plugin.api.hints import tool_hints
from plugin.api.operations import example_prompts, operations, served_uis
from plugin.oauth.resources.audiences import MCP_PATH, PRM_PATH

CHALLENGE_PATH = "/.well-known/openai-apps-challenge"
POLICY_PATHS = {"privacy": "/privacy", "terms": "/terms", "support": "/support"}
MIN_SHOULD_USE, MIN_SHOULD_NOT_USE = 5, 3
MAX_REASON = 200
PLACEHOLDER_DOMAINS = ("example.com", "example.org", "example.net")
PLACEHOLDER_SUFFIXES = (".example", ".test", ".invalid", ".localhost", "localhost")
SOURCE = re.compile(r'<meta name="policy-source" content="([^"]*)"')
PUBLISHER = re.compile(r'<meta name="publisher" content="([^"]*)"')
MAILTO = re.compile(r'href="mailto:([^"?]+)')

Fetch = Callable[[str], str]


@dataclass
class Submission:
    """The values the submission forms ask for, and what is wrong with them."""

    origin: str
    mcp_url: str
    auth: str = "unknown"
    policies: dict[str, str] = field(default_factory=dict)
    contact: str | None = None
    tools: list[dict[str, Any]] = field(default_factory=list)
    should_use: list[str] = field(default_factory=list)
    should_not_use: list[str] = field(default_factory=list)
    # None: no operation declares a UI, so there is no CSP to state.
    csp_domains: list[str] | None = None
    uis: list[dict[str, Any]] = field(default_factory=list)
    reviewers: list[str] | None = None
    findings: list[Finding] = field(default_factory=list)

    def problem(self, where: str, message: str, fix: str, severity: str = "error") -> None:
        self.findings.append(Finding(f"directory.{where}", f"{message} Fix: {fix}", severity))


def collect(fetch: Fetch, origin: str, *, over_http: bool) -> Submission:
    """Everything ``check --directory`` prints for ``origin``."""
    found = Submission(origin=origin, mcp_url=origin + MCP_PATH)
    _base_url(found)
    _challenge(found, fetch)
    _authorization(found, fetch)
    _policies(found, fetch)
    _tools(found)
    _uis(found)
    _prompts(found)
    if not over_http:
        # The local database is this deployment's only when checking it in-process.
        _reviewers(found)
    return found


def _base_url(found: Submission) -> None:
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


def _challenge(found: Submission, fetch: Fetch) -> None:
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


def _authorization(found: Submission, fetch: Fetch) -> None:
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


def _policies(found: Submission, fetch: Fetch) -> None:
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


def _tools(found: Submission) -> None:
    for registered in operations(current_app):
        name = registered.operation.operation_id
        hints = tool_hints(registered)
        found.tools.append(
            {
                "name": name,
                "title": registered.operation.summary,
                "annotations": {
                    hint: {"value": value.value, "why": value.why} for hint, value in hints.items()
                },
            }
        )
        for hint, value in hints.items():
            why = value.why.strip()
            if not why or "\n" in why or len(why) > MAX_REASON:
                found.problem(
                    f"tools[{name}].{hint}",
                    f"needs a one-line justification of at most {MAX_REASON} characters.",
                    f'declare it: @api_operation(..., annotations={{"{hint}": '
                    f'({value.value}, "why, in one line")}}).',
                )


def _csp(ui: OperationUi) -> dict[str, list[str]]:
    return {
        "connect_domains": list(ui.connect_domains),
        "resource_domains": list(ui.resource_domains),
        "frame_domains": list(ui.frame_domains),
        "base_uri_domains": list(ui.base_uri_domains),
    }


def _uis(found: Submission) -> None:
    declared: dict[str, OperationUi] = {}
    for registered in operations(current_app):
        if registered.operation.ui is not None:
            declared.setdefault(registered.operation.ui.template, registered.operation.ui)
    if not declared:
        return
    csps = {template: _csp(ui) for template, ui in declared.items()}
    found.csp_domains = sorted({d for csp in csps.values() for ds in csp.values() for d in ds})
    for domain in found.csp_domains:
        if "*" in domain:
            found.problem(
                "ui.csp",
                f"{domain} is a wildcard: reviewers want the exact domains a UI uses.",
                "list each host in the OperationUi; `flask --app plugin check` compares the CSP "
                "with what the page loads.",
            )
    try:
        served = {each.ui.template: each for each in served_uis(current_app) or []}
    except (TemplateError, ValueError) as error:
        served = {}
        found.problem(
            "ui",
            f"the UIs cannot be rendered ({error}).",
            "run `flask --app plugin check`: it names the UI and what to change.",
        )
    for template, csp in csps.items():
        each = served.get(template)
        found.uis.append(
            {
                "template": template,
                "uri": each.uri if each else None,
                "size": each.size if each else None,
                "csp": csp,
            }
        )


def _prompts(found: Submission) -> None:
    prompts = example_prompts(current_app)
    found.should_use = list(prompts.should_use)
    found.should_not_use = list(prompts.should_not_use)
    for where, have, least, kind in (
        ("should_use", found.should_use, MIN_SHOULD_USE, "should use the app"),
        ("should_not_use", found.should_not_use, MIN_SHOULD_NOT_USE, "should not use it"),
    ):
        if len(have) < least:
            found.problem(
                f"prompts.{where}",
                f"{len(have)} example prompt(s) that {kind}; the forms ask for at least {least}.",
                f"add them to ExamplePrompts({where}=...) on your ApiBlueprint's example_prompts.",
            )


def _reviewers(found: Submission) -> None:
    enabled = [user.email for user in list_reviewers() if not user.is_disabled]
    found.reviewers = enabled
    if not enabled:
        found.problem(
            "reviewer",
            "no enabled reviewer account: the forms ask for test credentials.",
            "run `flask --app plugin users create-reviewer` and give its e-mail and password.",
            "warning",
        )
