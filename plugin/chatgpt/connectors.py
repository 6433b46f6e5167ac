"""``flask check --connectors``: replay what ChatGPT and Claude do before a person sees a page.

GPT Actions fetch the manifest and OpenAPI document and the authorization-server metadata,
and send people to a redirect URI the operator registered. ChatGPT apps and Claude
connectors call ``/mcp`` without a token, follow the 401 challenge to the protected-resource
metadata, then the issuer's metadata (probing OpenID configuration too), and register by
metadata document or dynamic registration. Each step is ✔, ✘ with the fix, or ! (a warning).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from plugin.chatgpt.check import check_plugin, parse_document
from plugin.connections.queries import query_traces
from plugin.hosts import is_loopback
from plugin.oauth.clients.manage import list_clients
from plugin.oauth.resources.audiences import MCP_PATH, PRM_PATH

MANIFEST_PATH = "/.well-known/ai-plugin.json"
AS_METADATA = "/.well-known/oauth-authorization-server"
OIDC = "/.well-known/openid-configuration"
# The callbacks ChatGPT shows for GPT Actions and plugins (shared reference: chatgpt.md).
CHATGPT_CALLBACK = re.compile(
    r"https://(chatgpt\.com|chat\.openai\.com)/aip/(g-[\w-]+|plugin-[\w-]+|[\w-]+)/oauth/callback"
)
OIDC_REQUIRED = ("issuer", "authorization_endpoint", "jwks_uri", "response_types_supported")


@dataclass
class Answer:
    status: int
    headers: Mapping[str, str]
    text: str

    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            return None


# (method, url, JSON body or None) -> the answer; never raises for an HTTP status.
Transport = Callable[[str, str, Any], Answer]


class Unreachable(Exception):
    """The deployment did not answer at all."""


@dataclass
class Result:
    group: str
    step: str
    mark: str  # "✔", "✘" or "!"
    detail: str
    fix: str | None = None

    @property
    def failed(self) -> bool:
        return self.mark == "✘"


@dataclass
class Run:
    transport: Transport
    origin: str
    results: list[Result] = field(default_factory=list)

    def get(self, url: str) -> Answer | None:
        try:
            return self.transport("GET", url, None)
        except Unreachable:
            return None

    def post(self, url: str, body: Any) -> Answer | None:
        try:
            return self.transport("POST", url, body)
        except Unreachable:
            return None

    def add(self, group: str, step: str, ok: bool | None, detail: str, fix: str = "") -> None:
        mark = "✔" if ok else "!" if ok is None else "✘"
        self.results.append(Result(group, step, mark, detail, fix or None))


GPT = "GPT Action (ChatGPT)"
MCP = "ChatGPT app and Claude connector (MCP)"
TRACES = "Recent connections (flask connections tail)"
STALLED_LOOKED_AT = 200
STALLED_SHOWN = 5
BASE_FIX = "Set PLUGIN_BASE_URL to the public https origin people and ChatGPT reach."


def check_connectors(transport: Transport, origin: str) -> list[Result]:
    """Every step, in the order the clients take them."""
    run = Run(transport, origin.rstrip("/"))
    _base_url(run)
    server = _gpt_action(run)
    _connector(run, server)
    _stalled_connections(run)
    return run.results


def _base_url(run: Run) -> None:
    parts = urlsplit(run.origin)
    if parts.scheme != "https" and not is_loopback(parts.hostname or ""):
        run.add("Base URL", "https", False, f"{run.origin} is plain http", BASE_FIX)
    elif parts.scheme != "https" or is_loopback(parts.hostname or ""):
        run.add(
            "Base URL",
            "public https",
            None,
            f"{run.origin} is this machine over http: fine for a test, unreachable for "
            "ChatGPT and Claude",
        )


def _gpt_action(run: Run) -> dict[str, Any] | None:
    manifest_url = run.origin + MANIFEST_PATH
    answer = run.get(manifest_url)
    manifest = parse_document(answer.text) if answer and answer.status == 200 else None
    if not isinstance(manifest, dict):
        run.add(GPT, "manifest", False, f"{manifest_url} answered {_status(answer)}", BASE_FIX)
    api_url = ((manifest or {}).get("api") or {}).get("url")
    document = None
    if isinstance(api_url, str):
        spec = run.get(api_url)
        document = parse_document(spec.text) if spec and spec.status == 200 else None
        if document is None:
            run.add(GPT, "OpenAPI document", False, f"{api_url} answered {_status(spec)}")
    if isinstance(manifest, dict):
        errors = [f for f in check_plugin(manifest, document) if f.severity == "error"]
        if errors:
            detail = "; ".join(f"{f.where}: {f.message}" for f in errors[:3])
            more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
            run.add(GPT, "manifest and OpenAPI", False, detail + more, "Run `flask check`.")
        else:
            run.add(GPT, "manifest and OpenAPI", True, f"{manifest_url} and {api_url}")
    server = _issuer_metadata(run)
    token = run.post(run.origin + "/oauth/token", {"grant_type": "authorization_code"})
    if token is None or token.status not in (400, 401) or not isinstance(token.json(), dict):
        run.add(
            GPT,
            "token endpoint",
            False,
            f"POST /oauth/token answered {_status(token)}, not an OAuth error in JSON",
            "A proxy must pass POST /oauth/token through unchanged (no login, no CSRF).",
        )
    else:
        run.add(GPT, "token endpoint", True, "answers OAuth errors in JSON")
    _redirects(run)
    return server


def _issuer_metadata(run: Run) -> dict[str, Any] | None:
    answer = run.get(run.origin + AS_METADATA)
    server = answer.json() if answer and answer.status == 200 else None
    if not isinstance(server, dict):
        run.add(
            GPT, "authorization-server metadata", False, f"{AS_METADATA} answered {_status(answer)}"
        )
        return None
    if server.get("issuer") != run.origin:
        run.add(
            GPT,
            "authorization-server metadata",
            False,
            f"issuer is {server.get('issuer')!r}, but the server was reached at {run.origin}",
            BASE_FIX,
        )
        return server
    foreign = [
        key
        for key in ("authorization_endpoint", "token_endpoint")
        if not str(server.get(key, "")).startswith(run.origin + "/")
    ]
    if foreign:
        run.add(
            GPT,
            "authorization-server metadata",
            False,
            f"{', '.join(foreign)} not on {run.origin}",
            BASE_FIX,
        )
    else:
        run.add(GPT, "authorization-server metadata", True, f"issuer {run.origin}")
    return server


def _redirects(run: Run) -> None:
    clients = [
        client
        for client in list_clients()
        if client.kind == "registered" and not client.is_public and not client.is_disabled
    ]
    if not clients:
        run.add(
            GPT, "redirect URIs", None, "no GPT Action client yet: create one under Admin → Clients"
        )
    for client in clients:
        callbacks = [uri for uri in client.redirect_uris if CHATGPT_CALLBACK.fullmatch(uri)]
        if callbacks:
            run.add(GPT, f"redirect URIs of {client.name}", True, ", ".join(callbacks))
        else:
            run.add(
                GPT,
                f"redirect URIs of {client.name}",
                False,
                f"none is a ChatGPT callback ({', '.join(client.redirect_uris)})",
                "Register the callback URL ChatGPT shows, such as "
                "https://chatgpt.com/aip/g-…/oauth/callback, exactly (no trailing slash).",
            )


def _connector(run: Run, server: dict[str, Any] | None) -> None:
    mcp_url = run.origin + MCP_PATH
    probe = run.post(mcp_url, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}})
    challenge = (probe.headers.get("WWW-Authenticate", "") if probe else "") or ""
    metadata_at = re.search(r'resource_metadata="([^"]+)"', challenge)
    if probe is None or probe.status != 401 or metadata_at is None:
        fix = {
            404: "MCP_ENABLED is off: turn it on for ChatGPT apps and Claude connectors.",
            421: "The MCP host check refused this host: " + BASE_FIX,
        }.get(probe.status if probe else 0, "Pass POST /mcp through the proxy unchanged.")
        run.add(MCP, "/mcp 401 challenge", False, f"POST /mcp answered {_status(probe)}", fix)
        return
    scoped = "scope=" in challenge
    run.add(
        MCP,
        "/mcp 401 challenge",
        True if scoped else None,
        "names resource_metadata" + (" and scope" if scoped else ", but no scope"),
    )
    _resource_metadata(run, metadata_at.group(1), mcp_url, server)
    _oidc(run)
    _registration(run, server)


def _resource_metadata(run: Run, url: str, mcp_url: str, server: dict[str, Any] | None) -> None:
    for where in dict.fromkeys([url, run.origin + PRM_PATH + MCP_PATH, run.origin + PRM_PATH]):
        answer = run.get(where)
        document = answer.json() if answer and answer.status == 200 else None
        step = f"protected-resource metadata {urlsplit(where).path}"
        if not isinstance(document, dict):
            run.add(MCP, step, False, f"{where} answered {_status(answer)}", BASE_FIX)
        elif document.get("resource") != mcp_url:
            run.add(
                MCP,
                step,
                False,
                f"resource is {document.get('resource')!r}, not {mcp_url}: tokens would be "
                "refused as issued for another resource",
                BASE_FIX,
            )
        elif (document.get("authorization_servers") or [None])[0] != (server or {}).get("issuer"):
            run.add(MCP, step, False, "authorization_servers does not name this issuer", BASE_FIX)
        else:
            run.add(MCP, step, True, f"resource {mcp_url}")
    if server is not None:
        missing = [
            what
            for what, present in (
                ("S256 PKCE", "S256" in server.get("code_challenge_methods_supported", [])),
                (
                    '"none" client authentication',
                    "none" in server.get("token_endpoint_auth_methods_supported", []),
                ),
                ("RFC 9207 iss", server.get("authorization_response_iss_parameter_supported")),
            )
            if not present
        ]
        run.add(
            MCP,
            "authorization-server metadata for MCP",
            not missing,
            "lacks " + ", ".join(missing) if missing else "S256, none, iss",
        )


def _oidc(run: Run) -> None:
    answer = run.get(run.origin + OIDC)
    if answer is not None and answer.status == 404:
        run.add(MCP, "OpenID probe", True, "404: clients fall back to RFC 8414")
        return
    document = answer.json() if answer and answer.status == 200 else None
    missing = [key for key in OIDC_REQUIRED if not (document or {}).get(key)]
    if document is not None and not missing and document.get("issuer") == run.origin:
        run.add(MCP, "OpenID probe", True, "a complete OpenID configuration")
        return
    run.add(
        MCP,
        "OpenID probe",
        False,
        f"{OIDC} answered {_status(answer)}"
        + (f" lacking {', '.join(missing)}" if document is not None else ""),
        "Serve no OpenID configuration (404) or a complete one: a half-valid one breaks "
        "ChatGPT's discovery. Check what the proxy serves at that path.",
    )


def _registration(run: Run, server: dict[str, Any] | None) -> None:
    server = server or {}
    cimd = server.get("client_id_metadata_document_supported") is True
    run.add(
        MCP,
        "metadata documents (CIMD)",
        True if cimd else None,
        "supported: ChatGPT and Claude identify by URL" if cimd else "off (OAUTH_CIMD_ENABLED)",
    )
    endpoint = server.get("registration_endpoint")
    if not isinstance(endpoint, str):
        run.add(
            MCP,
            "dynamic registration",
            None if cimd else False,
            "not offered (OAUTH_DCR_ENABLED)",
            ""
            if cimd
            else "Turn on OAUTH_CIMD_ENABLED or OAUTH_DCR_ENABLED: clients cannot register.",
        )
        return
    # An empty registration: refused with a JSON error, and nothing is registered.
    answer = run.post(endpoint, {})
    body = answer.json() if answer else None
    if answer is not None and answer.status == 400 and isinstance(body, dict) and body.get("error"):
        run.add(MCP, "dynamic registration", True, f"{endpoint} answers")
    else:
        run.add(
            MCP,
            "dynamic registration",
            False,
            f"{endpoint} answered {_status(answer)}",
            "A proxy must pass POST /oauth/register through unchanged.",
        )


def _stalled_connections(run: Run) -> None:
    """Kept traces that went quiet after a code or a token: a warning each, with its fix.

    What the probes above cannot see: a real client's code that never came back, or its
    tokens that no call ever used (a proxy or CDN turning ChatGPT or Claude away).
    """
    failed = query_traces(outcome="failed", limit=STALLED_LOOKED_AT)
    stalled = [trace for trace in failed if trace.stalled is not None][:STALLED_SHOWN]
    if not stalled:
        run.add(TRACES, "codes exchanged, tokens used", True, "no kept connection stalled")
    for trace in stalled:
        step = trace.stalled
        assert step is not None
        who = trace.client_name or trace.client_id or "a client"
        run.add(TRACES, f"#{trace.id} {who}", None, step.reason or "", step.fix or "")


def _status(answer: Answer | None) -> str:
    return "nothing (unreachable)" if answer is None else str(answer.status)
