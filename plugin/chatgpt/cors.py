"""CORS for what ChatGPT's web page fetches: the API, the manifest and the document.

Paths are registered as "cors" by the features that serve them (``plugin.paths``). Only
origins listed in ``CORS_ORIGINS`` are echoed back; pages for people (the login,
consent and confirmation pages above all) never carry CORS headers. No cookies are
involved (the API takes bearer tokens), so credentials are never allowed.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request

from plugin.paths import is_path
from plugin.web import request_header

ALLOWED_METHODS = "GET, POST, PATCH, DELETE, OPTIONS"
ALLOWED_HEADERS = (
    "Authorization, Content-Type, openai-conversation-id, openai-ephemeral-user-id, "
    "openai-subdivision-1-iso-code"
)
PREFLIGHT_MAX_AGE = "600"


def init_app(app: Flask) -> None:
    app.before_request(_answer_preflight)
    app.after_request(_add_cors_headers)


def _allowed_origin() -> str | None:
    origin = request_header("Origin")
    return origin if origin and origin in current_app.config["CORS_ORIGINS"] else None


def _answer_preflight() -> Response | None:
    if request.method != "OPTIONS" or not is_path("cors", request.path):
        return None
    if "Access-Control-Request-Method" not in request.headers:
        return None
    # Answered before routing and authentication: a preflight never carries the token.
    return Response(status=204)


def _add_cors_headers(response: Response) -> Response:
    if not is_path("cors", request.path):
        return response
    response.vary.add("Origin")
    origin = _allowed_origin()
    if origin is None:
        return response
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Expose-Headers"] = "WWW-Authenticate, Retry-After, Location"
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    return response
