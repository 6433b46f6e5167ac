"""The request edge: how large a body may be, and which bodies cannot be read.

Every request passes here before any view, form or OAuth endpoint reads it:

- a body over ``MAX_CONTENT_LENGTH`` (declared, or counted while reading a chunked body) and
  a form with more than ``MAX_FORM_PARTS`` fields are refused with 413, on every route;
- JSON that cannot be read (bad UTF-8, nested beyond what the parser can follow) is
  unreadable, so each route answers it as it answers any malformed body, with a 400 in its
  own format.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import RequestEntityTooLarge

FORM = "application/x-www-form-urlencoded"


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
    pass


def init_app(app: Flask) -> None:
    app.json = JSONProvider(app)
    app.before_request(check_request)


def check_request() -> None:
    _check_size()


def _check_size() -> None:
    limit = request.max_content_length
    declared = request.content_length
    if limit is not None and declared is not None and declared > limit:
        raise BodyTooLarge(_too_large(limit))
    try:
        if declared is None and "wsgi.input_terminated" in request.environ:
            # A chunked body has no length to check: read it now, so that no route, whether
            # it reads its body or not, takes more. Werkzeug stops at the limit without
            # saying whether more was sent; one more byte from the server's stream tells.
            data = request.get_data(cache=True)
            if limit is not None and len(data) >= limit and request.environ["wsgi.input"].read(1):
                raise BodyTooLarge(_too_large(limit))
        if request.mimetype == FORM:
            # Werkzeug applies MAX_FORM_PARTS to multipart forms only.
            parts = request.get_data(cache=True).count(b"&") + 1
            if request.max_form_parts is not None and parts > request.max_form_parts:
                raise BodyTooLarge(f"The form has more than {request.max_form_parts} fields.")
        request.form  # noqa: B018 - parsed here so that its own limits answer clearly
    except BodyTooLarge:
        raise
    except RequestEntityTooLarge:
        raise BodyTooLarge(_too_large(limit)) from None


def _too_large(limit: int | None) -> str:
    return f"The request is too large: this server accepts bodies of up to {limit:,} bytes."
