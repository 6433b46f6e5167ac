"""``POST /mcp``: the checks every call shares, then the SDK's answer.

Before the SDK sees a request: a foreign ``Origin`` is refused, the body is bounded, the bearer
token is checked (with the scope the called tool needs, so a missing one is a 403 naming it)
and the call counts against the person's API rate limit. Everything after the request is
Flask's as on ``/api``: request id, log line, security headers, the database session.
"""

from __future__ import annotations

from typing import Any

import mcp_types as types
from flask import Blueprint, Response, current_app, request
from mcp.server.lowlevel.server import Server

from plugin.api.hints import changes_nothing
from plugin.api.operations import RegisteredOperation, find_operation
from plugin.api.ratelimit import counts_api_limit, limit_like_api
from plugin.database import read_without_transaction
from plugin.extensions import csrf
from plugin.inputs import BodyTooLarge, UnreadableInput
from plugin.mcp import server
from plugin.mcp.exchange import Body
from plugin.oauth.resources.audiences import mcp_resource
from plugin.oauth.resources.guard import require_resource_token
from plugin.web import public_url, request_header

EXTENSION = "plugin.mcp.server"
# The methods whose answers read and write nothing of the person's (tools/call aside).
READING_METHODS = frozenset(
    {"ping", "tools/list", "resources/list", "resources/templates/list", "resources/read"}
)

bp = Blueprint("mcp", __name__)


@bp.post("/mcp")
def endpoint() -> Response:
    if not _origin_allowed():
        return jsonrpc_error(403, types.INVALID_REQUEST, "Requests from this origin are refused.")
    if (request.content_length or 0) > server.MAX_BODY:
        return jsonrpc_error(413, types.INVALID_REQUEST, "The request body is too large.")
    # The request edge (plugin/inputs.py) has read the body already, chunked or not, and
    # bounded it by MAX_CONTENT_LENGTH.
    raw = request.get_data(cache=True)
    if len(raw) > server.MAX_BODY:
        return jsonrpc_error(413, types.INVALID_REQUEST, "The request body is too large.")
    body = server.read_body(raw)
    called = _called_operation(body.decoded)
    if _changes_nothing(body.decoded, called):
        read_without_transaction()
    # A tools/call needs its tool's scope; anything else needs a valid token only.
    scope = called.operation.scope if called is not None else None
    require_resource_token(mcp_resource(), [scope] if scope else [])
    return _answer(body)


# Bearer tokens, not cookies, authenticate these calls: there is nothing to forge.
csrf.exempt(endpoint)
counts_api_limit(endpoint)


@bp.errorhandler(BodyTooLarge)
@bp.errorhandler(UnreadableInput)
def _refused_at_the_edge(error: BodyTooLarge | UnreadableInput) -> Response:
    # What the request edge refuses before this view runs, answered in JSON-RPC like the rest.
    return jsonrpc_error(error.code or 400, types.INVALID_REQUEST, error.description or "")


@limit_like_api
def _answer(body: Body) -> Response:
    sdk: Server[Any] = current_app.extensions[EXTENSION]
    answer = server.answer_request(sdk, body)
    return Response(answer.body, status=answer.status, headers=server.response_headers(answer))


def _origin_allowed() -> bool:
    # Browsers send Origin; an MCP client's server-side calls usually do not.
    origin = request_header("Origin")
    if not origin:
        return True
    own = public_url().rstrip("/")
    return origin == own or origin in current_app.config["CORS_ORIGINS"]


def _changes_nothing(message: Any, called: RegisteredOperation | None) -> bool:
    """Whether answering ``message`` only reads: a listing, a read, a ping, or a call of a
    tool (``called``) whose operation changes nothing."""
    if called is not None:
        return changes_nothing(called.operation, called.method)
    # A batch, or not JSON-RPC at all, or a call of an unknown tool: not known to only read.
    return isinstance(message, dict) and message.get("method") in READING_METHODS


def _called_operation(message: Any) -> RegisteredOperation | None:
    """The operation a ``tools/call`` names, if it names a known one."""
    if not isinstance(message, dict) or message.get("method") != "tools/call":
        return None
    params = message.get("params")
    name = params.get("name") if isinstance(params, dict) else None
    return find_operation(name) if isinstance(name, str) else None


def jsonrpc_error(status: int, code: int, message: str) -> Response:
    error = types.JSONRPCError(
        jsonrpc="2.0", id=None, error=types.ErrorData(code=code, message=message)
    )
    return Response(
        error.model_dump_json(by_alias=True, exclude_none=True),
        status=status,
        mimetype="application/json",
    )
