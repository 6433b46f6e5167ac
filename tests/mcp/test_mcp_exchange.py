"""The 2025-era single exchange answers exactly as the SDK's own stateless transport does.

Each request goes through the view once; there both the SDK's session manager and
``plugin.mcp.exchange`` answer it, and the two answers must be the same, byte for byte.
"""

from __future__ import annotations

import json

import pytest

from plugin.mcp import server
from tests.mcp.mcp_helpers import ACCEPT

JSON = "application/json"
INIT = {
    "protocolVersion": "2025-06-18",
    "capabilities": {},
    "clientInfo": {"name": "tests", "version": "1"},
}
ENVELOPE = {
    "_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "tests", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {},
    }
}


def rpc(method: str, params: object = None, **fields: object) -> bytes:
    body: dict = {"jsonrpc": "2.0", "id": 1, "method": method} | fields
    if params is not None:
        body["params"] = params
    return json.dumps(body).encode()


CASES = {
    "initialize": (rpc("initialize", INIT), {}),
    "initialize, unknown version": (rpc("initialize", INIT | {"protocolVersion": "1999"}), {}),
    "initialize, bad params": (rpc("initialize", {"capabilities": 5}), {}),
    "initialized": (b'{"jsonrpc": "2.0", "method": "notifications/initialized"}', {}),
    "unknown notification": (b'{"jsonrpc": "2.0", "method": "notifications/nothing"}', {}),
    "a posted response": (b'{"jsonrpc": "2.0", "id": 1, "result": {}}', {}),
    "ping": (rpc("ping"), {}),
    "ping, string id": (rpc("ping", id="abc"), {}),
    "tools/list": (rpc("tools/list"), {}),
    "tools/list at 2025-06-18": (rpc("tools/list"), {"MCP-Protocol-Version": "2025-06-18"}),
    "tools/list at no version": (rpc("tools/list"), {"MCP-Protocol-Version": None}),
    "tools/list with a 2026 envelope": (rpc("tools/list", ENVELOPE), {}),
    "listTodos": (rpc("tools/call", {"name": "listTodos", "arguments": {}}), {}),
    "getMe, progress token": (
        rpc("tools/call", {"name": "getMe", "_meta": {"progressToken": 7}}),
        {"MCP-Protocol-Version": "2025-06-18"},
    ),
    "invalid arguments": (rpc("tools/call", {"name": "listTodos", "arguments": {"q": 5}}), {}),
    "unknown tool": (rpc("tools/call", {"name": "launchRocket", "arguments": {}}), {}),
    "tool name not a string": (rpc("tools/call", {"name": 5}), {}),
    "params not an object": (rpc("tools/call", "x"), {}),
    "unknown method": (rpc("tools/destroy"), {}),
    "a batch": (b'[{"jsonrpc": "2.0", "id": 1, "method": "ping"}]', {}),
    "no method": (b'{"id": 1}', {}),
    "null id": (b'{"jsonrpc": "2.0", "id": null, "method": "ping"}', {}),
    "unparseable": (b"{not json", {}),
    "empty body": (b"", {}),
    "accepts only SSE": (rpc("ping"), {"Accept": "text/event-stream"}),
    "accepts anything": (rpc("ping"), {"Accept": "*/*"}),
    "no Accept": (rpc("ping"), {"Accept": None}),
    "text/plain": (rpc("ping"), {"Content-Type": "text/plain"}),
    "application/jsonx": (rpc("ping"), {"Content-Type": "application/jsonx"}),
    "JSON with a charset": (rpc("ping"), {"Content-Type": "application/json; charset=utf-8"}),
}


@pytest.fixture
def both_answers(monkeypatch):
    """Every answer the view gets, from the fast path and from the SDK's session manager."""
    seen: list[tuple[server.Answer, server.Answer]] = []
    fast = server.answer_request

    def answer_twice(sdk, body):
        ours = fast(sdk, body)
        theirs = server.runner().exchange(sdk, server.security_settings(), body.raw)
        seen.append((ours, theirs))
        return ours

    monkeypatch.setattr(server, "answer_request", answer_twice)
    return seen


def _post(client, token: str, raw: bytes, changes: dict[str, str | None], **kwargs):
    headers = {
        "Accept": ACCEPT,
        "Content-Type": JSON,
        "MCP-Protocol-Version": "2025-11-25",
        "Authorization": f"Bearer {token}",
    }
    for name, value in changes.items():
        headers.pop(name)
        if value is not None:
            headers[name] = value
    return client.post("/mcp", data=raw, headers=headers, **kwargs)


def _same(pair: tuple[server.Answer, server.Answer]) -> None:
    ours, theirs = pair
    assert (ours.status, ours.body) == (theirs.status, theirs.body)
    assert server.response_headers(ours) == server.response_headers(theirs)


@pytest.mark.parametrize("case", CASES)
def test_each_request_is_answered_as_the_sdk_transport_answers_it(
    client, token, both_answers, case
):
    raw, changes = CASES[case]
    _post(client, token, raw, changes)
    [pair] = both_answers
    _same(pair)


class TestPublicOrigin:
    @pytest.fixture
    def app_config(self, app_config):
        return app_config | {"PLUGIN_BASE_URL": "https://todo.example.com"}

    @pytest.mark.parametrize("host", ["todo.example.com", "localhost"])
    def test_the_host_check_answers_alike(self, client, token, both_answers, host):
        _post(client, token, rpc("ping"), {}, base_url=f"https://{host}")
        [pair] = both_answers
        _same(pair)
        assert pair[0].status == (200 if host == "todo.example.com" else 421)
