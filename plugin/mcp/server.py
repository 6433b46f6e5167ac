"""The official MCP SDK, driven from a Flask view: one request in, one JSON answer out.

The SDK does the protocol for both eras. A 2026-07-28 request (per-request ``_meta``,
``server/discover``, the ``Mcp-Method``/``Mcp-Name`` checks) goes to its streamable-HTTP session
manager (stateless, JSON responses), which serves it as a single exchange. A 2025 request
(``initialize``, ``ping``, ``tools/list``, ``tools/call`` at 2025-06-18 or 2025-11-25, or with
no version header) is answered by ``plugin.mcp.exchange``: the same single exchange the SDK
composes for 2026-07-28, built from the SDK's checks, models and kernel (``serve_one``), with
its 2025 transport's answers. Through the manager such a request built a transport, a task,
two stream pairs, a dispatcher and a connection and took eleven turns of the event loop; now
it takes two, and a ``tools/call`` of listTodos 7.04 M instructions instead of 8.68 M
(docs/benchmarks.md). The routing between the two is the manager's own rule; with an SDK
release other than the one the shortcut was compared with (``exchange.VERIFIED_SDK``), every
request goes through the manager.

Each worker thread keeps one event loop and one running manager, made on its first ``/mcp``
request (so after gunicorn forks), and runs each exchange to completion on that loop *in the
request's own thread*. The SDK's handlers therefore see Flask's request context (contextvars
are copied into every task), and the view code they call behaves exactly as under ``/api``.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import anyio
import mcp_types as types
from flask import current_app, request
from mcp.server.apps import EXTENSION_ID as APPS_EXTENSION
from mcp.server.caching import CacheHint
from mcp.server.lowlevel.server import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from mcp.shared.inbound import MCP_PROTOCOL_VERSION_HEADER
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from starlette.types import Message

from plugin.database import discard_work
from plugin.mcp import apps, exchange, tools
from plugin.mcp.exchange import Answer

log = logging.getLogger(__name__)

# Larger bodies are refused before they are read (the SDK's own limit is 4 MiB).
MAX_BODY = 1024 * 1024
SERVER_ERROR = "Something went wrong on the server; nothing was changed. Try again later."


async def _list_tools(
    ctx: Any, params: types.PaginatedRequestParams | None
) -> types.ListToolsResult:
    return types.ListToolsResult(tools=tools.list_tools())


async def _call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
    try:
        return tools.call_tool(params.name, params.arguments or {})
    except tools.UnknownTool:
        raise MCPError(types.INVALID_PARAMS, f"Unknown tool: {params.name}") from None
    except Exception:
        # Logged with its traceback here; the caller learns only that it failed.
        log.exception("tool %s failed", params.name)
        discard_work()
        return types.CallToolResult(content=[types.TextContent(text=SERVER_ERROR)], is_error=True)


async def _list_resources(
    ctx: Any, params: types.PaginatedRequestParams | None
) -> types.ListResourcesResult:
    return apps.list_resources()


async def _read_resource(
    ctx: Any, params: types.ReadResourceRequestParams
) -> types.ReadResourceResult:
    found = apps.read_resource(params.uri)
    if found is None:
        # The uri in data lets a client tell which read failed (SEP-2164).
        raise MCPError(
            types.INVALID_PARAMS, f"Unknown resource: {params.uri}", data={"uri": params.uri}
        )
    return found


def build_server(name: str, instructions: str) -> Server[Any]:
    server: Server[Any] = Server(
        name,
        version="1.0.0",
        instructions=instructions,
        on_list_tools=_list_tools,
        on_call_tool=_call_tool,
        on_list_resources=_list_resources,
        on_read_resource=_read_resource,
        cache_hints={
            "resources/read": CacheHint(ttl_ms=apps.READ_TTL_MS, scope="public"),
            "resources/list": CacheHint(ttl_ms=apps.LIST_TTL_MS, scope="public"),
        },
    )
    # MCP Apps, advertised as MCPServer(extensions=[Apps()]) would (plugin/mcp/apps.py).
    server.extensions[APPS_EXTENSION] = apps.SETTINGS
    return server


def security_settings() -> TransportSecuritySettings:
    """The SDK's Host and Origin allowlist: the public origin, or off when it is not fixed.

    Without ``PLUGIN_BASE_URL`` the app answers on whatever host it is reached by (local
    development, tests), and the view's own Origin check still applies.
    """
    base = current_app.config["PLUGIN_BASE_URL"]
    if not base:
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[urlsplit(base).netloc],
        allowed_origins=[base, *current_app.config["CORS_ORIGINS"]],
    )


class ThreadRunner:
    """One event loop and one running session manager for the thread that made them."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.manager = StreamableHTTPSessionManager(
            app=Server("placeholder"),
            json_response=True,
            stateless=True,
            max_request_body_size=MAX_BODY,
        )
        ready = asyncio.Event()
        # An empty context: the manager outlives the request that happened to start it.
        self._holder = self.loop.create_task(self._hold(ready), context=contextvars.Context())
        self.loop.run_until_complete(ready.wait())

    async def _hold(self, ready: asyncio.Event) -> None:
        async with self.manager.run():
            ready.set()
            await anyio.sleep_forever()

    def exchange(
        self, server: Server[Any], settings: TransportSecuritySettings, body: bytes
    ) -> Answer:
        # Both are read per request by the manager; this thread is the only one using it.
        self.manager.app = server
        self.manager.security_settings = settings
        return self.loop.run_until_complete(self._exchange(_scope(), body))

    async def _exchange(self, scope: dict[str, Any], body: bytes) -> Answer:
        answer = Answer(500, [], b"")
        sent = bytearray()
        delivered = False

        async def receive() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            # The client stays connected until the answer is written.
            await anyio.sleep_forever()
            raise AssertionError("unreachable")

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer.status = message["status"]
                answer.headers = [
                    (key.decode("latin-1"), value.decode("latin-1"))
                    for key, value in message.get("headers", [])
                ]
            elif message["type"] == "http.response.body":
                sent.extend(message.get("body", b""))

        await self.manager.handle_request(scope, receive, send)
        answer.body = bytes(sent)
        return answer

    def close(self) -> None:
        """Stop the session manager and close the loop (its thread has ended)."""
        self._holder.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            self.loop.run_until_complete(self._holder)
        self.loop.close()


_runners: dict[threading.Thread, ThreadRunner] = {}
_runners_lock = threading.Lock()


def runner() -> ThreadRunner:
    """This thread's runner. gunicorn's threads live as long as the worker; a server that
    makes a thread per request (Werkzeug's, in development) leaves runners behind, and those
    of ended threads are closed here rather than leaking a loop each."""
    thread = threading.current_thread()
    found = _runners.get(thread)
    if found is None:
        with _runners_lock:
            for ended in [other for other in _runners if not other.is_alive()]:
                _runners.pop(ended).close()
            found = _runners[thread] = ThreadRunner()
    return found


def _scope() -> dict[str, Any]:
    """This Flask request as an ASGI scope (the body is handed over separately)."""
    environ = request.environ
    headers = [
        (key.lower().encode("latin-1"), value.encode("latin-1"))
        for key, value in request.headers.items()
    ]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": environ.get("SERVER_PROTOCOL", "HTTP/1.1").removeprefix("HTTP/"),
        "method": request.method,
        "scheme": request.scheme,
        "path": request.path,
        "raw_path": request.path.encode(),
        "query_string": environ.get("QUERY_STRING", "").encode("latin-1"),
        "root_path": "",
        "headers": headers,
        "client": (request.remote_addr or "", 0),
        "server": (environ.get("SERVER_NAME", ""), int(environ.get("SERVER_PORT") or 0)),
        "state": {},
    }


def speaks_modern() -> bool:
    """The SDK manager's own era routing: a version header naming no handshake revision goes to
    its 2026-07-28 entry; no header, or a handshake revision, to its 2025 transport."""
    version = request.headers.get(MCP_PROTOCOL_VERSION_HEADER)
    return version is not None and version not in HANDSHAKE_PROTOCOL_VERSIONS


def read_body(raw: bytes) -> exchange.Body:
    return exchange.read_body(raw, modern=speaks_modern())


def answer_request(server: Server[Any], body: exchange.Body) -> Answer:
    """Let the SDK answer this request, whose body has been read already."""
    if speaks_modern() or not exchange.SDK_VERIFIED:
        return through_transport(server, body)
    return through_shortcut(server, body)


def through_transport(server: Server[Any], body: exchange.Body) -> Answer:
    """The SDK's whole transport path: its streamable-HTTP session manager answers."""
    return runner().exchange(server, security_settings(), body.raw)


def through_shortcut(server: Server[Any], body: exchange.Body) -> Answer:
    """A 2025-era request answered in one exchange with the SDK's kernel (``exchange``)."""
    # Runs in a copy of this thread's context, as the manager's tasks do: Flask's request too.
    return runner().loop.run_until_complete(
        exchange.answer(server, security_settings(), _scope(), body)
    )


def response_headers(answer: Answer) -> Mapping[str, str]:
    # Framing is Flask's business; the rest (content type, Allow…) is the SDK's answer.
    skip = {"content-length", "transfer-encoding", "connection"}
    return {key: value for key, value in answer.headers if key.lower() not in skip}
