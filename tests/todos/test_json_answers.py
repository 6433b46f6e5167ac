"""API answers are written by orjson, and are byte for byte what Flask's own provider writes."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask.json.provider import DefaultJSONProvider

from plugin.inputs import JSONProvider
from plugin.json_provider import OrjsonProvider


@dataclasses.dataclass
class Point:
    x: int
    label: str


VALUES = [
    {"b": 1, "a": [True, False, None], "c": {"z": "", "y": "plain"}},
    {"title": "Crème brûlée für 東京 🍮", "notes": 'quote " backslash \\ newline \n tab \t'},
    {"control": "\x00\x1f\x7f", "html": "<script>&</script>", "slash": "a/b"},
    {"when": datetime(2026, 12, 1, 9, 30, tzinfo=UTC), "day": date(2027, 2, 28)},
    {"id": uuid.UUID(int=7), "amount": Decimal("1.10"), "point": Point(1, "é")},
    {"big": 2**70, "negative": -(2**63), "floats": [0.1, 1e16, float("nan"), float("inf")]},
    {1: "int key", "2": "str key"},
    [],
    "just text",
    None,
]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_orjson_answers_are_what_flask_writes(app, value):
    with app.test_request_context():
        assert isinstance(app.json, OrjsonProvider) and isinstance(app.json, JSONProvider)
        flask_provider = DefaultJSONProvider(app)
        try:
            expected = flask_provider.response(value).get_data()
        except TypeError:
            with pytest.raises(TypeError):
                app.json.response(value)
            return
        assert app.json.response(value).get_data() == expected
        compact = {"separators": (",", ":")}
        assert app.json.dumps(value, **compact) == flask_provider.dumps(value, **compact)
        assert app.json.dumps(value) == flask_provider.dumps(value)


def test_a_page_with_non_ascii_text_is_escaped_as_before(api):
    created = api.create("Crème brûlée 🍮", notes="東京")
    raw = api.get("/api/todos").get_data()
    assert b"Cr\\u00e8me br\\u00fbl\\u00e9e \\ud83c\\udf6e" in raw and b"\\u6771\\u4eac" in raw
    assert api.get("/api/todos").get_json()["items"][0]["id"] == created["id"]
