"""The text rule of ``plugin.text`` for forms (WTForms) and API inputs (marshmallow).

Every text field a person or a program fills in uses one of them: single-line fields
(emails, names, titles, tokens, searches) refuse every control character; multi-line
fields (todo notes, a list of redirect URIs) still allow tabs and line breaks.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError as SchemaValidationError
from marshmallow import fields
from wtforms import Field
from wtforms.validators import ValidationError as FormValidationError

from plugin.text import text_problem


class PlainText:
    """WTForms validator: refuse control characters (tabs and line breaks too, unless multiline)."""

    def __init__(self, *, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, form: Any, field: Field) -> None:
        problem = text_problem(field.data, multiline=self.multiline) if field.data else None
        if problem:
            raise FormValidationError(problem)


single_line = PlainText()
multi_line = PlainText(multiline=True)


class Line(fields.String):
    """A string on one line: control characters, line breaks and broken Unicode are refused."""

    multiline = False

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        problem = text_problem(text, multiline=self.multiline)
        if problem:
            raise SchemaValidationError(problem)
        return text


class Text(Line):
    """A string that may span lines: tabs and line breaks are allowed, other controls are not."""

    multiline = True
