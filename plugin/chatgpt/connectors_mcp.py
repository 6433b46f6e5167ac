"""The replay of a ChatGPT app or Claude connector: the ``/mcp`` challenge, the
protected-resource metadata, the OpenID probe and registration."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from plugin.chatgpt.connectors_run import BASE_FIX, Run, status
from plugin.oauth.resources.audiences import MCP_PATH, PRM_PATH

MCP = "ChatGPT app and Claude connector (MCP)"
OIDC = "/.well-known/openid-configuration"
OIDC_REQUIRED = ("issuer", "authorization_endpoint", "jwks_uri", "response_types_supported")


def connector(run: Run, server: dict[str, Any] | None) -> None:
    mcp_url = run.origin + MCP_PATH
    probe = run.post(mcp_url, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}})
    challenge = (probe.headers.get("WWW-Authenticate", "") if probe else "") or ""
    metadata_at = re.search(r'resource_metadata="([^"]+)"', challenge)
    if probe is None or probe.status != 401 or metadata_at is None:
        fix = {
            404: "MCP_ENABLED is off: turn it on for ChatGPT apps and Claude connectors.",
            421: "The MCP host check refused this host: " + BASE_FIX,
        }.get(probe.status if probe else 0, "Pass POST /mcp through the proxy unchanged.")
        run.add(MCP, "/mcp 401 challenge", False, f"POST /mcp answered {status(probe)}", fix)
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
            run.add(MCP, step, False, f"{where} answered {status(answer)}", BASE_FIX)
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
        f"{OIDC} answered {status(answer)}"
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
            f"{endpoint} answered {status(answer)}",
            "A proxy must pass POST /oauth/register through unchanged.",
        )
