"""Flask's JSON responses written by orjson, byte for byte what Flask's own provider writes.

Every API answer is a compact JSON response; orjson writes it several times faster than the
standard library. Output stays identical: keys sorted, Flask's ``default`` for dates and the
like, and anything orjson would write differently (non-ASCII text, which Flask escapes;
values orjson refuses, such as integers beyond 64 bits or keys that are not strings, and
floats, which the two write differently) is written by the standard library.
"""

from __future__ import annotations

from typing import Any, cast

import orjson
from flask import Flask
from werkzeug.sansio.response import Response

from plugin.inputs import JSONProvider

# Dates, dataclasses and subclasses of str/int/dict go to Flask's ``default``, as in json.dumps.
OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)
COMPACT = {"separators": (",", ":")}


class OrjsonProvider(JSONProvider):
    """Writing by orjson where its text is the standard library's; reading as ``inputs``'s."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs == COMPACT:
            fast = self._fast(obj)
            if fast is not None:
                return fast.decode()
        return super().dumps(obj, **kwargs)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        if self.compact is False or (self.compact is None and self._app.debug):
            return super().response(*args, **kwargs)
        obj = self._prepare_response_obj(args, kwargs)
        fast = self._fast(obj)
        if fast is None:
            return super().response(obj)
        response_class = cast(Any, self._app.response_class)
        answer: Response = response_class(fast + b"\n", mimetype=self.mimetype)
        return answer

    def _fast(self, obj: Any) -> bytes | None:
        """orjson's text when it is the standard library's, else None."""
        if not self.ensure_ascii:
            return None
        options = OPTIONS | (orjson.OPT_SORT_KEYS if self.sort_keys else 0)
        try:
            text = orjson.dumps(obj, default=self.default, option=options)
        except orjson.JSONEncodeError:
            return None
        # orjson writes non-ASCII characters and DEL as they are, 1e16 and NaN as 1e16 and
        # null; the standard library escapes the first two and writes 1e+16 and NaN.
        if not text.isascii() or b"\x7f" in text or _has_float(obj):
            return None
        return text


def _has_float(obj: Any) -> bool:
    if isinstance(obj, float):
        return True
    if isinstance(obj, dict):
        return any(_has_float(value) for value in obj.values())
    if isinstance(obj, list | tuple):
        return any(_has_float(value) for value in obj)
    return False


def init_app(app: Flask) -> None:
    # After inputs.init_app, whose provider this one extends.
    app.json = OrjsonProvider(app)
