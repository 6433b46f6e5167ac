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

from plugin.api.operations import find_operation
from plugin.api.ratelimit import counts_api_limit, limit_like_api
from plugin.extensions import csrf
from plugin.inputs import BodyTooLarge, UnreadableInput
from plugin.mcp import server
from plugin.mcp.exchange import Body
from plugin.oauth.resources.audiences import mcp_resource
from plugin.oauth.resources.guard import require_resource_token
from plugin.web import public_url, request_header

EXTENSION = "plugin.mcp.server"

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
    require_resource_token(mcp_resource(), _scopes_for(body.decoded))
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


def _scopes_for(message: Any) -> list[str]:
    """The scope a ``tools/call``'s tool needs; anything else needs a valid token only."""
    if not isinstance(message, dict) or message.get("method") != "tools/call":
        return []
    params = message.get("params")
    name = params.get("name") if isinstance(params, dict) else None
    registered = find_operation(name) if isinstance(name, str) else None
    if registered is None or not registered.operation.scope:
        return []
    return [registered.operation.scope]


def jsonrpc_error(status: int, code: int, message: str) -> Response:
    error = types.JSONRPCError(
        jsonrpc="2.0", id=None, error=types.ErrorData(code=code, message=message)
    )
    return Response(
        error.model_dump_json(by_alias=True, exclude_none=True),
        status=status,
        mimetype="application/json",
    )
