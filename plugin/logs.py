"""Logging: one line per request with a request id, as text or JSON, never with secrets.

A request line holds the method and the path *without* its query string (authorization
codes, states and tokens travel there), the status, the duration and who made the request.
Headers other than the request id and ChatGPT's conversation ids, cookies and bodies are
never logged.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import TextIO

import sqlalchemy as sa
from flask import Flask, Response, g, request
from flask.logging import default_handler

from plugin.text import escape_controls
from plugin.tracebacks import format_traceback
from plugin.web import request_header

log = logging.getLogger("plugin.requests")

REQUEST_ID_HEADER = "X-Request-ID"
# A proxy's or load balancer's id is kept when it looks like one; anything else is replaced.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")
CHATGPT_HEADERS = {
    "openai-conversation-id": "conversation_id",
    "openai-ephemeral-user-id": "ephemeral_user_id",
}
# Route arguments with these in their name hold secrets and are not logged.
SECRET_PATH_WORDS = ("token", "code", "secret", "key")
SANE_HEADER_VALUE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Attributes every LogRecord has; anything else on a record was passed with ``extra=``.
RECORD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
# Request fields the text line already shows in its message.
SHOWN_IN_MESSAGE = {"method", "path", "status", "duration_ms"}


class StderrHandler(logging.StreamHandler[TextIO]):
    """Write to whatever ``sys.stderr`` is at the time (test runners and gunicorn swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.setStream(sys.stderr)
        super().emit(record)


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any ``extra`` fields.

    Strings are written with their control characters escaped, so that a value read back
    from the JSON is as safe to print as the line itself.
    """

    def format(self, record: logging.LogRecord) -> str:
        body = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": escape_controls(record.getMessage()),
        }
        body.update(
            (key, escape_controls(value) if isinstance(value, str) else value)
            for key, value in vars(record).items()
            if key not in RECORD_ATTRIBUTES
        )
        if record.exc_info and record.exc_info[1] is not None:
            body["exception"] = format_traceback(record.exc_info[1])
        return json.dumps(body, default=lambda value: escape_controls(str(value)))


class TextFormatter(logging.Formatter):
    """``time level logger: message key=value …`` with any ``extra`` fields appended.

    The line never holds a control character: a path with ``%0a`` in it cannot start a
    forged line. A traceback follows on lines of its own, its messages escaped likewise.
    """

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        record.asctime = self.formatTime(record, self.datefmt)
        line = escape_controls(self.formatMessage(record))
        extras = " ".join(
            f"{key}={escape_controls(str(value))}"
            for key, value in vars(record).items()
            if key not in RECORD_ATTRIBUTES and key not in SHOWN_IN_MESSAGE and value is not None
        )
        if extras:
            line = f"{line} {extras}"
        if record.exc_info and record.exc_info[1] is not None:
            line += "\n" + format_traceback(record.exc_info[1])
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


def init_app(app: Flask) -> None:
    _configure_handler(app)
    app.before_request(_start_request)
    app.after_request(_log_request)


# Our records, and the rate limiter's notices that Redis went away or came back.
LOGGERS = ("plugin", "flask-limiter")


def _configure_handler(app: Flask) -> None:
    logging.getLogger("plugin").removeHandler(default_handler)
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(app.config["LOG_LEVEL"])
        # One handler however many apps a process builds (tests build one per test).
        for handler in list(logger.handlers):
            if isinstance(handler, StderrHandler):
                logger.removeHandler(handler)
        if app.testing:
            # The test runner's handlers on the root logger collect the records.
            logger.propagate = True
            continue
        handler = StderrHandler()
        handler.setFormatter(formatter(app.config["LOG_FORMAT"]))
        logger.addHandler(handler)
        # Records stop here, so a root handler (gunicorn's, for one) does not print them twice.
        logger.propagate = False


def formatter(log_format: str) -> logging.Formatter:
    return JSONFormatter() if log_format == "json" else TextFormatter()


def request_id() -> str:
    """This request's id: the caller's sane ``X-Request-ID`` or a new one."""
    if "request_id" not in g:
        incoming = request_header(REQUEST_ID_HEADER)
        g.request_id = incoming if SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
    request_id: str = g.request_id
    return request_id


def _start_request() -> None:
    g.request_started = time.perf_counter()
    request_id()


def _log_request(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = request_id()
    started = g.get("request_started", time.perf_counter())
    fields = {
        "request_id": request_id(),
        "method": request.method,
        "path": _loggable_path(),
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        "remote_addr": request.remote_addr,
        "user_id": _user_id(),
    }
    for header, key in CHATGPT_HEADERS.items():
        value = request_header(header)
        if SANE_HEADER_VALUE.fullmatch(value):
            fields[key] = value
    log.info(
        "%s %s %s %.1fms",
        request.method,
        fields["path"],
        response.status_code,
        fields["duration_ms"],
        extra=fields,
    )
    return response


def _loggable_path() -> str:
    # Unguessable links (previews, confirmations, password resets) are secrets in the path:
    # log the route's pattern for those, e.g. "/reset/<token>".
    rule = request.url_rule
    if rule is not None and any(
        word in argument for argument in rule.arguments for word in SECRET_PATH_WORDS
    ):
        return rule.rule
    return request.path


def _user_id() -> int | None:
    # Only what the request already loaded: logging must never query the database.
    user = g.get("current_user")
    if user is None:
        token = g.get("authlib_server_oauth2_token")
        # A presented token holds its user's id as a plain attribute: no query.
        return getattr(token, "user_id", None) if token is not None else None
    # The identity key, unlike ``user.id``, never reloads an expired row.
    identity = sa.inspect(user).identity
    return identity[0] if identity else None
