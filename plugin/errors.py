"""Error responses: one JSON envelope for machines, HTML pages for people."""

from __future__ import annotations

import logging
from typing import Any, cast

from flask import Flask, Response, g, jsonify, make_response, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed
from werkzeug.wrappers import Response as BaseResponse

from plugin.database import discard_work
from plugin.database_errors import database_problem, is_missing_database, is_missing_schema
from plugin.paths import is_path

log = logging.getLogger(__name__)


ERROR_CODES = {
    400: "invalid_request",
    401: "invalid_token",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "request_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    500: "server_error",
    503: "temporarily_unavailable",
}


def wants_json() -> bool:
    """Tell whether this request's caller is a program (JSON errors) rather than a person."""
    return is_path("machine", request.path)


def json_error(status: int, description: str, **extra: Any) -> Response:
    """Build the envelope ``{"error": code, "error_description": text, ...}``."""
    body = {"error": ERROR_CODES.get(status, "error"), "error_description": description}
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    return response


def _handle_http(error: HTTPException) -> BaseResponse:
    if error.response is not None:
        # The raiser built the whole answer (a resource server's challenge, for one).
        return cast(BaseResponse, error.response)
    if type(error).__module__.startswith("authlib."):
        # Authlib's OAuth errors already carry their RFC 6749/6750 body and headers.
        return error.get_response()
    status = error.code or 500
    response: BaseResponse
    if wants_json():
        response = json_error(status, error.description or "")
    else:
        response = make_response(
            render_template("errors/error.html", status=status, error=error), status
        )
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    if status == 429:
        response.headers.setdefault("Retry-After", "60")
    return response


def _handle_csrf(error: CSRFError) -> ResponseReturnValue:
    description = (
        "This form has expired or was not sent from this site. Go back, reload and try again."
    )
    if wants_json():
        return json_error(400, description)
    return render_template("errors/error.html", status=400, error=error, message=description), 400


def _is_database_down(error: Exception) -> bool:
    if isinstance(error, OperationalError | InterfaceError | PoolTimeoutError):
        return True
    if isinstance(error, SQLAlchemyError) and is_missing_schema(error):
        return True
    # A connection that died mid-statement may surface as any DBAPI error.
    return isinstance(error, DBAPIError) and error.connection_invalidated


def _handle_database_down(error: Exception) -> ResponseReturnValue:
    discard_work()
    # The page layout shows who is signed in; asking the database again would fail again.
    g.current_user = None
    if isinstance(error, SQLAlchemyError) and (
        is_missing_schema(error) or is_missing_database(error)
    ):
        log.error("database unavailable: %s", database_problem(error))
    else:
        log.error("database unavailable: %s", error.__class__.__name__)
    description = "The service is temporarily unavailable. Try again in a moment."
    if wants_json():
        response = json_error(503, description)
    else:
        response = make_response(
            render_template("errors/error.html", status=503, message=description), 503
        )
    response.headers["Retry-After"] = "5"
    return response


def _handle_unexpected(error: Exception) -> ResponseReturnValue:
    if _is_database_down(error):
        return _handle_database_down(error)
    discard_work()
    log.exception("unhandled error on %s %s", request.method, request.path)
    if isinstance(error, HTTPException):
        return _handle_http(error)
    return _handle_http(InternalServerError())


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _handle_csrf)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(OperationalError, _handle_database_down)
    app.register_error_handler(InterfaceError, _handle_database_down)
    # Every pooled connection busy for pool_timeout seconds: overloaded, not broken.
    app.register_error_handler(PoolTimeoutError, _handle_database_down)
    app.register_error_handler(Exception, _handle_unexpected)
