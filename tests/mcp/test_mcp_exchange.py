"""The 2025-era single exchange answers exactly as the SDK's own stateless transport does.

Each request goes through the view once; there both the SDK's session manager (its whole
transport path, serving the app's ``Server``) and ``plugin.mcp.exchange`` answer it, and the
two answers must be the same, byte for byte. The cases are every request shape a 2025 client
sends. The shortcut serves only the SDK release this comparison last passed with: after an
upgrade, ``test_the_shortcut_was_compared_with_the_installed_sdk`` fails until it is run again.
"""

from __future__ import annotations

import json

import pytest
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

from plugin.mcp import apps, exchange, server, tools
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


NO_VERSION = {"MCP-Protocol-Version": None}
CASES = {
    **{
        # A client's first request carries no version header: the version is in the body.
        f"initialize at {version}": (
            rpc("initialize", INIT | {"protocolVersion": version}),
            NO_VERSION,
        )
        for version in HANDSHAKE_PROTOCOL_VERSIONS
    },
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
    "a tool's isError answer": (
        rpc("tools/call", {"name": "getTodo", "arguments": {"todo_id": 999_999}}),
        {},
    ),
    "a missing argument": (rpc("tools/call", {"name": "getTodo", "arguments": {}}), {}),
    "unknown tool": (rpc("tools/call", {"name": "launchRocket", "arguments": {}}), {}),
    "tool name not a string": (rpc("tools/call", {"name": 5}), {}),
    "params not an object": (rpc("tools/call", "x"), {}),
    "unknown method": (rpc("tools/destroy"), {}),
    "resources/list": (rpc("resources/list"), {}),
    "resources/read, unknown": (rpc("resources/read", {"uri": "ui://app/0/none.html"}), {}),
    "resources/templates/list": (rpc("resources/templates/list"), {}),
    "prompts/list": (rpc("prompts/list"), {}),
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
    """Every answer the view gets, from the shortcut and from the SDK's session manager."""
    seen: list[tuple[server.Answer, server.Answer]] = []

    def answer_twice(sdk, body):
        assert not server.speaks_modern()
        ours = server.through_shortcut(sdk, body)
        theirs = server.through_transport(sdk, body)
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


# What some answers must hold, so that two equal answers are also the right ones.
SHOWS = {
    **{
        f"initialize at {v}": f'"protocolVersion":"{v}"'.encode()
        for v in HANDSHAKE_PROTOCOL_VERSIONS
    },
    "ping": b'"result":{}',
    "listTodos": b'"structuredContent"',
    "a tool's isError answer": b'"isError":true',
    "invalid arguments": b'"isError":true',
    "unknown tool": b'"code":-32602',
    "unknown method": b'"code":-32601',
    "resources/list": b'"uri":"ui://app/',
    "unparseable": b'"code":-32700',
}


@pytest.mark.parametrize("case", CASES)
def test_each_request_is_answered_as_the_sdk_transport_answers_it(
    client, token, both_answers, case
):
    raw, changes = CASES[case]
    _post(client, token, raw, changes)
    [pair] = both_answers
    _same(pair)
    assert pair[0].status < 500, pair[0]
    assert SHOWS.get(case, b"") in pair[0].body


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


def test_a_ui_resource_is_read_as_the_sdk_transport_reads_it(app, client, token, both_answers):
    with app.app_context():
        [uri] = [found.uri for found in apps.ui_resources(app).values()]
    _post(client, token, rpc("resources/read", {"uri": uri}), {})
    [pair] = both_answers
    _same(pair)
    assert json.loads(pair[0].body)["result"]["contents"][0]["uri"] == uri


def test_a_handler_that_raises_is_answered_as_the_sdk_transport_answers_it(
    client, token, both_answers, monkeypatch
):
    def broken():
        raise RuntimeError("the registry is gone")

    monkeypatch.setattr(tools, "list_tools", broken)
    _post(client, token, rpc("tools/list"), {})
    [pair] = both_answers
    _same(pair)
    assert "error" in json.loads(pair[0].body)


def test_the_shortcut_was_compared_with_the_installed_sdk():
    assert exchange.SDK_VERIFIED, (
        f"The MCP SDK is now {exchange.INSTALLED_SDK}; plugin/mcp/exchange.py was compared with "
        f"{exchange.VERIFIED_SDK}, so 2025-era requests go through the SDK's transport (slower) "
        "until this file's comparison passes against the new release: then read the SDK's "
        "streamable_http.py changes and update VERIFIED_SDK."
    )


def test_another_sdk_release_is_served_through_the_sdk_transport(client, token, monkeypatch):
    monkeypatch.setattr(exchange, "SDK_VERIFIED", False)

    def not_verified(sdk, body):
        raise AssertionError("the shortcut served an SDK release it was not compared with")

    monkeypatch.setattr(server, "through_shortcut", not_verified)
    answer = _post(client, token, rpc("tools/call", {"name": "getMe", "arguments": {}}), {})
    assert answer.status_code == 200
    assert answer.get_json()["result"]["structuredContent"]["email"]
