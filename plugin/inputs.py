"""The request edge: how large a body may be, and what no view should ever be handed.

Every request passes here before any view, form or OAuth endpoint reads it:

- a body over ``MAX_CONTENT_LENGTH`` (declared, or counted while reading a chunked body) and
  a form with more than ``MAX_FORM_PARTS`` fields are refused with 413, on every route;
- JSON that cannot be read (bad UTF-8, nested beyond any real document) is unreadable, so
  each route answers it as it answers any malformed body, with a 400 in its own format;
- an ``<int:…>`` route argument beyond the database's integers matches no route (404);
- a ``<client_id:…>`` route argument holds any kind of client id, an https URL included;
- a NUL (or a lone surrogate, which no database can store) anywhere, and any control
  character in the path, a parameter or field name or HTTP Basic credentials, is refused
  with 400. Other control characters in values are for each field to judge: todo notes may
  hold line breaks, an email may not (``plugin/validators.py``); OAuth's ``state`` is echoed
  to the client byte for byte.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from typing import Any, NoReturn
from urllib.parse import unquote

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.routing import BaseConverter, IntegerConverter, ValidationError

from plugin.text import CONTROL, code_point, escape_controls
from plugin.web import request_header

# Ids are 32-bit integers on every database; PostgreSQL refuses a larger one in a query
# and SQLite one beyond 64 bits.
MAX_ID = 2**31 - 1
# No document this app reads nests deeper than a few levels.
MAX_JSON_DEPTH = 32
# NUL and lone surrogates: never valid in any text, not even multi-line text.
NEVER_VALID = re.compile(r"[\x00\ud800-\udfff]")
FORM = "application/x-www-form-urlencoded"


class BoundedIntegerConverter(IntegerConverter):
    """``<int:…>``, stopping at ``MAX_ID`` unless the rule names its own ``max``: a larger id
    matches no route and is a 404 instead of a database error."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) < 3:  # max is IntegerConverter's third positional argument
            kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, where a body that cannot be decoded is a ``ValueError`` like any other
    malformed JSON, so ``get_json`` and every route treat it the same way."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            # RFC 8259: JSON on the wire is UTF-8; json.loads would also pass encoded surrogates.
            text = s.decode("utf-8") if isinstance(s, bytes | bytearray) else s
            return super().loads(text, **kwargs)
        except RecursionError:
            raise ValueError("The JSON is nested too deeply.") from None


class BodyTooLarge(RequestEntityTooLarge):
    """A 413 whose description names the limit that was passed."""


class UnreadableInput(BadRequest):
    """Text in the request that no view may be handed; the description says where."""


PLAIN_CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,255}")


class ClientIdConverter(BaseConverter):
    """``<client_id:…>``: a client id of any kind in one path segment.

    Generated ids (URL-safe letters) appear as they are; any other id, such as a metadata
    document's https URL, as ``~`` and its base64url form. A ``/`` cannot be sent escaped
    (servers and proxies decode or merge it before routing), so no escaping would do.
    """

    regex = r"(?:[A-Za-z0-9_-]{1,255}|~[A-Za-z0-9_-]{1,400})"

    def to_python(self, value: str) -> str:
        if not value.startswith("~"):
            return value
        encoded = value[1:]
        try:
            return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise ValidationError() from None

    def to_url(self, value: str) -> str:
        if PLAIN_CLIENT_ID.fullmatch(value):
            return value
        return "~" + base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def init_app(app: Flask) -> None:
    # Every <int:…> in every blueprint is bounded here; rules are compiled as blueprints
    # register, so this comes before any of them.
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.url_map.converters["client_id"] = ClientIdConverter
    app.json = JSONProvider(app)
    app.before_request(check_request)


def check_request() -> None:
    # Most API calls are GETs without a body: nothing to count, parse or scan there.
    has_body = bool(request.content_length) or _is_chunked()
    if has_body:
        _check_size()
    _check_text(has_body)


def _is_chunked() -> bool:
    return "chunked" in request_header("Transfer-Encoding").lower()


def _check_size() -> None:
    limit = request.max_content_length
    declared = request.content_length
    if limit is not None and declared is not None and declared > limit:
        raise BodyTooLarge(_too_large(limit))
    if declared is None and "wsgi.input_terminated" in request.environ:
        # A chunked body has no length to check: read it now, so that no route, whether it
        # reads its body or not, takes more. Werkzeug stops at the limit without saying
        # whether more was sent; one more byte from the server's stream tells.
        data = request.get_data(cache=True)
        if limit is not None and len(data) >= limit and request.environ["wsgi.input"].read(1):
            raise BodyTooLarge(_too_large(limit))
    parts = request.max_form_parts
    # Werkzeug applies MAX_FORM_PARTS to multipart forms only.
    if request.mimetype == FORM and parts is not None:
        if request.get_data(cache=True).count(b"&") >= parts:
            raise BodyTooLarge(f"The form has more than {parts} fields.")
    try:
        request.form  # noqa: B018 - parsed here, so that its own limits answer clearly
    except RequestEntityTooLarge:
        raise BodyTooLarge(
            f"The form is too large: at most {parts} fields and "
            f"{request.max_form_memory_size:,} bytes in a field."
        ) from None


def _too_large(limit: int) -> str:
    return f"The request is too large: this server accepts bodies of up to {limit:,} bytes."


def _check_text(has_body: bool) -> None:
    if found := CONTROL.search(request.path):
        _refuse(found, "The address")
    for name, value in request.args.items(multi=True):
        if found := CONTROL.search(name) or NEVER_VALID.search(value):
            _refuse(found, f"The query parameter '{_shown(name)}'")
    if has_body:
        _check_body_text()
    for text in _basic_credentials():
        if found := CONTROL.search(text):
            _refuse(found, "The Authorization header")


def _check_body_text() -> None:
    for name, value in request.form.items(multi=True):
        if found := CONTROL.search(name) or NEVER_VALID.search(value):
            _refuse(found, f"The form field '{_shown(name)}'")
    if request.is_json:
        for where, text, is_key in _json_strings(request.get_json(silent=True)):
            if found := (CONTROL if is_key else NEVER_VALID).search(text):
                _refuse(found, f"The JSON field '{_shown(where)}'")


def _refuse(found: re.Match[str], where: str) -> NoReturn:
    raise UnreadableInput(
        f"{where} contains a character that is not allowed ({code_point(found.group())})."
    )


def _shown(name: str) -> str:
    return escape_controls(name[:40])


def _json_strings(data: Any) -> Iterator[tuple[str, str, bool]]:
    """``(where, text, is_key)`` for every string in a decoded JSON document, without recursion."""
    stack: list[tuple[str, Any, int]] = [("", data, 0)]
    while stack:
        where, value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise UnreadableInput(f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels.")
        if isinstance(value, str):
            yield where or "(body)", value, False
        elif isinstance(value, dict):
            for key, item in value.items():
                path = f"{where}.{key}" if where else key
                yield path, key, True
                stack.append((path, item, depth + 1))
        elif isinstance(value, list):
            stack.extend((f"{where}[{index}]", item, depth + 1) for index, item in enumerate(value))


def _basic_credentials() -> list[str]:
    """The client id and secret of a Basic header, decoded as the OAuth server decodes them
    (RFC 6749 §2.3.1: form-encoded, then base64)."""
    scheme, _, encoded = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "basic":
        return []
    try:
        decoded = base64.b64decode(encoded.strip())
    except binascii.Error:
        return []  # not Basic credentials at all: the endpoint answers invalid_client
    try:
        text = decoded.decode("utf-8")
    except UnicodeDecodeError:
        raise UnreadableInput("The Authorization header's credentials are not UTF-8.") from None
    return [unquote(part) for part in text.split(":", 1)]
