"""Speak MCP to the app through Flask's test client, in either protocol era."""

from __future__ import annotations

import json
import re
from typing import Any

LEGACY = "2025-11-25"
MODERN = "2026-07-28"
ACCEPT = "application/json, text/event-stream"


def modern_meta(
    version: str = MODERN, capabilities: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "io.modelcontextprotocol/protocolVersion": version,
        "io.modelcontextprotocol/clientInfo": {"name": "tests", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": capabilities or {},
    }


class Mcp:
    """JSON-RPC over ``POST /mcp`` with a bearer token; ``era`` picks the headers and ``_meta``."""

    def __init__(self, client, token: str | None, era: str = LEGACY) -> None:
        self.client = client
        self.token = token
        self.era = era
        self.next_id = 0
        # What a 2026-07-28 request declares the client can do (its _meta carries them).
        self.capabilities: dict[str, Any] = {}

    def headers(self, method: str, params: dict[str, Any] | None) -> dict[str, str]:
        headers = {"Accept": ACCEPT, "Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        headers["MCP-Protocol-Version"] = self.era
        if self.era != LEGACY:
            headers["Mcp-Method"] = method
            if method == "tools/call" and params:
                headers["Mcp-Name"] = params["name"]
            if method == "resources/read" and params:
                headers["Mcp-Name"] = params["uri"]
        return headers

    def post(self, body: Any, headers: dict[str, str] | None = None, raw: bytes | None = None):
        data = raw if raw is not None else json.dumps(body)
        return self.client.post("/mcp", data=data, headers=headers or {})

    def request(self, method: str, params: dict[str, Any] | None = None, **extra_headers: str):
        self.next_id += 1
        params = dict(params or {})
        if self.era != LEGACY:
            params["_meta"] = modern_meta(self.era, self.capabilities)
        body = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params:
            body["params"] = params
        headers = self.headers(method, params) | extra_headers
        return self.post(body, headers)

    def result(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = self.request(method, params)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        body = answer.get_json()
        assert "result" in body, body
        return body["result"]

    def call(self, name: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.result("tools/call", {"name": name, "arguments": arguments or {}})

    def tools(self) -> dict[str, dict[str, Any]]:
        return {tool["name"]: tool for tool in self.result("tools/list")["tools"]}


def confirm_form(html: str, csrf_token: str) -> dict[str, str]:
    """What the confirm page's Confirm button posts (the summary fingerprint included)."""
    shown = re.search(r'name="shown" value="([^"]*)"', html)
    return {
        "decision": "confirm",
        "csrf_token": csrf_token,
        "shown": shown.group(1) if shown else "",
    }


def mcp_url(app) -> str:
    """The /mcp resource as the test client reaches it (PLUGIN_BASE_URL or http://localhost)."""
    return (app.config["PLUGIN_BASE_URL"] or "http://localhost").rstrip("/") + "/mcp"
