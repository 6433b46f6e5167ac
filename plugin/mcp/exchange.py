"""A handshake-era (2025) ``POST /mcp`` answered in one exchange with the SDK's kernel.

Why it exists: the SDK serves a stateless 2025 request by building a transport, a task in its
manager's task group, two stream pairs, a JSON-RPC dispatcher and a connection, so that the one
message and its answer can travel between them (about eleven turns of the event loop). For a
2026-07-28 request it composes a single exchange instead (``handle_modern_request``: the
transport checks, then ``serve_one``). This module composes that same single exchange for the
2025 era, which took a ``tools/call`` of listTodos from 8.7 M to 7.0 M instructions
(docs/benchmarks.md, "/mcp: a 2025-era request in one exchange"; the README's "Why /mcp is a
Flask view that drives the SDK").

The price: it is built from about fifteen SDK pieces that are not its public API (its security
checks, ``check_accept_headers``, ``pydantic_core.from_json``, the ``jsonrpc_message_adapter``,
``ServerRunner``/``serve_one``, its JSON-RPC models), and must answer each case as the SDK's
2025 transport does in JSON-response, sessionless mode: same statuses, same bodies. Two guards
keep it honest. ``tests/mcp/test_mcp_exchange.py`` sends every request shape both ways (this
module, and the SDK's session manager running the same ``Server``) and requires identical
answers. And the shortcut serves only the SDK release it was compared with
(``VERIFIED_SDK``): under any other, ``plugin.mcp.server`` sends 2025 requests through the
SDK's own transport, and that test fails until the comparison has been run against the new
release and ``VERIFIED_SDK`` updated. (A connector broke when its server moved between SDK
2.x releases: internals change without notice.)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

import anyio
import pydantic_core
from mcp.server.connection import Connection
from mcp.server.lowlevel.server import Server
from mcp.server.runner import ServerRunner, aclose_shielded, serve_one
from mcp.server.streamable_http import check_accept_headers
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from mcp.shared.dispatcher import CallOptions
from mcp.shared.exceptions import NoBackChannelError
from mcp.shared.inbound import MCP_PROTOCOL_VERSION_HEADER
from mcp.shared.jsonrpc_dispatcher import (
    handler_exception_to_error_data,
    progress_token_from_params,
)
from mcp.shared.message import ServerMessageMetadata
from mcp.shared.transport_context import TransportContext
from mcp_types import (
    DEFAULT_NEGOTIATED_VERSION,
    INVALID_PARAMS,
    INVALID_REQUEST,
    PARSE_ERROR,
    ErrorData,
    JSONRPCError,
    JSONRPCNotification,
    JSONRPCRequest,
    JSONRPCResponse,
    RequestId,
    jsonrpc_message_adapter,
)
from pydantic import ValidationError
from starlette.requests import Request
from starlette.types import Scope

log = logging.getLogger(__name__)

# The releases the contract test last passed with; see the module's docstring.
VERIFIED_SDK = {"mcp": "2.3.0", "mcp-types": "2.3.0"}
INSTALLED_SDK = {name: version(name) for name in VERIFIED_SDK}
SDK_VERIFIED = INSTALLED_SDK == VERIFIED_SDK

# What the SDK's stateless manager gives each message's handler: no way to reach the client.
TRANSPORT = TransportContext(kind="streamable-http", can_send_request=False)
JSON_HEADERS = [("content-type", "application/json")]
NO_STATE: dict[str, Any] = {}


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class Body:
    """The request body, and what the SDK entry that answers it reads in it."""

    raw: bytes
    decoded: Any = None
    unreadable: Exception | None = None


def read_body(raw: bytes, *, modern: bool) -> Body:
    """Read as that entry reads: ``json.loads`` for 2026-07-28 (it also takes UTF-16 and a
    byte-order mark), ``pydantic_core.from_json`` for the 2025 transport. The view finds the
    tool's scope in this reading, so the scope checked is the scope of the call that runs."""
    try:
        return Body(raw, json.loads(raw) if modern else pydantic_core.from_json(raw))
    except (ValueError, RecursionError) as error:
        return Body(raw, unreadable=error)


@dataclass
class _NoBackChannel:
    """The request's channel to the client, which a JSON answer does not have: the SDK's
    transport drops what a handler sends on it in JSON-response mode, and refuses requests."""

    request_id: RequestId | None
    message_metadata: ServerMessageMetadata
    progress_token: Any = None
    transport: TransportContext = TRANSPORT
    can_send_request: bool = False
    cancel_requested: anyio.Event = field(default_factory=anyio.Event)

    async def send_raw_request(
        self, method: str, params: Mapping[str, Any] | None, opts: CallOptions | None = None
    ) -> dict[str, Any]:
        raise NoBackChannelError(method)

    async def notify(
        self, method: str, params: Mapping[str, Any] | None, opts: CallOptions | None = None
    ) -> None:
        return None

    async def progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> None:
        return None


async def answer(
    server: Server[Any], settings: TransportSecuritySettings, scope: Scope, body: Body
) -> Answer:
    """What the SDK's 2025 transport answers to this POST, checks first, then the message."""
    request = Request(scope)
    refused = await TransportSecurityMiddleware(settings).validate_request(request, is_post=True)
    if refused is not None:
        headers = [
            (key.decode("latin-1"), value.decode("latin-1")) for key, value in refused.raw_headers
        ]
        return Answer(refused.status_code, headers, bytes(refused.body))
    if not check_accept_headers(request)[0]:
        return _refusal(406, INVALID_REQUEST, "Not Acceptable: Client must accept application/json")
    if not _json_content_type(request):
        return _refusal(
            415, INVALID_REQUEST, "Unsupported Media Type: Content-Type must be application/json"
        )
    if body.unreadable is not None:
        return _refusal(400, PARSE_ERROR, f"Parse error: {body.unreadable}")
    try:
        message = jsonrpc_message_adapter.validate_python(body.decoded, by_name=False)
    except ValidationError as error:
        return _refusal(400, INVALID_PARAMS, f"Validation error: {error}")
    # The header (or the spec's value for its absence) is the connection's version, as in the SDK.
    version = request.headers.get(MCP_PROTOCOL_VERSION_HEADER, DEFAULT_NEGOTIATED_VERSION)
    metadata = ServerMessageMetadata(request_context=request, can_send_request=False)
    if isinstance(message, JSONRPCRequest):
        reply = await _serve(server, message, metadata, version)
        return Answer(200, JSON_HEADERS, _dump(reply))
    if isinstance(message, JSONRPCNotification):
        await _notify(server, message, metadata, version)
    # A notification, or a posted response that answers nothing of ours: accepted, no body.
    return Answer(202, JSON_HEADERS, b"")


async def _serve(
    server: Server[Any], message: JSONRPCRequest, metadata: ServerMessageMetadata, version: str
) -> JSONRPCResponse | JSONRPCError:
    channel = _NoBackChannel(message.id, metadata, progress_token_from_params(message.params))
    connection = Connection.from_envelope(version, None, None)
    try:
        # The server keeps no lifespan of its own: its state is the SDK default's, {}.
        result = await serve_one(
            server,
            channel,
            message.method,
            message.params,
            connection=connection,
            lifespan_state={},
        )
    except Exception as error:
        # The SDK's JSON-RPC dispatcher's answer to a handler that raised.
        data = handler_exception_to_error_data(error)
        if data is None:
            log.exception("handler for %r raised", message.method)
            data = ErrorData(code=0, message=str(error))
        return JSONRPCError(jsonrpc="2.0", id=message.id, error=data)
    return JSONRPCResponse(jsonrpc="2.0", id=message.id, result=result)


async def _notify(
    server: Server[Any], message: JSONRPCNotification, metadata: ServerMessageMetadata, version: str
) -> None:
    connection = Connection.from_envelope(version, None, None)
    runner = ServerRunner(server, connection, NO_STATE)
    try:
        await runner.on_notify(_NoBackChannel(None, metadata), message.method, message.params)
    finally:
        await aclose_shielded(connection)


def _json_content_type(request: Request) -> bool:
    # The transport's own test: one of the listed types before any parameters is exactly JSON.
    content_type = request.headers.get("content-type", "")
    return any(part.strip() == "application/json" for part in content_type.split(";")[0].split(","))


def _refusal(status: int, code: int, message: str) -> Answer:
    error = JSONRPCError(jsonrpc="2.0", id=None, error=ErrorData(code=code, message=message))
    return Answer(status, JSON_HEADERS, _dump(error))


def _dump(message: JSONRPCResponse | JSONRPCError) -> bytes:
    return message.model_dump_json(by_alias=True, exclude_unset=True).encode()
