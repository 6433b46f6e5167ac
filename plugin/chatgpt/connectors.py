"""``flask check --connectors``: replay what ChatGPT and Claude do before a person sees a page.

GPT Actions fetch the manifest and OpenAPI document and the authorization-server metadata,
and send people to a redirect URI the operator registered. ChatGPT apps and Claude
connectors call ``/mcp`` without a token, follow the 401 challenge to the protected-resource
metadata, then the issuer's metadata (probing OpenID configuration too), and register by
metadata document or dynamic registration. Each step is ✔, ✘ with the fix, or ! (a warning).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from plugin.chatgpt.check import check_plugin, parse_document
from plugin.chatgpt.connectors_mcp import connector
from plugin.chatgpt.connectors_run import BASE_FIX, Result, Run, Transport, status
from plugin.connections.queries import query_traces
from plugin.hosts import is_loopback
from plugin.oauth.clients.manage import list_clients

MANIFEST_PATH = "/.well-known/ai-plugin.json"
AS_METADATA = "/.well-known/oauth-authorization-server"
# The callbacks ChatGPT shows for GPT Actions and plugins (shared reference: chatgpt.md).
CHATGPT_CALLBACK = re.compile(
    r"https://(chatgpt\.com|chat\.openai\.com)/aip/(g-[\w-]+|plugin-[\w-]+|[\w-]+)/oauth/callback"
)


GPT = "GPT Action (ChatGPT)"
TRACES = "Recent connections (flask connections tail)"
STALLED_LOOKED_AT = 200
STALLED_SHOWN = 5


def check_connectors(transport: Transport, origin: str) -> list[Result]:
    """Every step, in the order the clients take them."""
    run = Run(transport, origin.rstrip("/"))
    _base_url(run)
    server = _gpt_action(run)
    connector(run, server)
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
        run.add(GPT, "manifest", False, f"{manifest_url} answered {status(answer)}", BASE_FIX)
    api_url = ((manifest or {}).get("api") or {}).get("url")
    document = None
    if isinstance(api_url, str):
        spec = run.get(api_url)
        document = parse_document(spec.text) if spec and spec.status == 200 else None
        if document is None:
            run.add(GPT, "OpenAPI document", False, f"{api_url} answered {status(spec)}")
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
            f"POST /oauth/token answered {status(token)}, not an OAuth error in JSON",
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
            GPT, "authorization-server metadata", False, f"{AS_METADATA} answered {status(answer)}"
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
