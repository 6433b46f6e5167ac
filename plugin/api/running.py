"""Running one declared operation: validate its inputs, call its view, dump its answer.

``run_operation`` is what ``/api`` (through ``@api_operation``) and ``/mcp`` (a tool call)
share; the caller has checked the token, its scope and the rate limit already.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from flask import Response, jsonify
from marshmallow import EXCLUDE, Schema, ValidationError

from plugin.api.declarations import ApiOperation, DeclaredOperation


class OperationInputError(Exception):
    """The inputs of a call are unusable; ``fields`` holds one list of messages per field."""

    def __init__(
        self, status: int, description: str, fields: dict[str, list[str]] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.fields = fields or {}


@dataclass(frozen=True)
class OperationResult:
    """What a view answered: a status and JSON-ready data, or a Response it built itself."""

    status: int
    data: Any = None
    response: Response | None = None


@cache
def schema_instance(
    schema: type[Schema], unknown: Literal["exclude", "include", "raise"] | None = None
) -> Schema:
    """One shared instance per schema: building one costs more than a whole small dump."""
    return schema(unknown=unknown) if unknown else schema()


def run_operation(
    declared: DeclaredOperation,
    path_args: Mapping[str, Any],
    query: Mapping[str, Any],
    body: Any,
) -> OperationResult:
    """Validate the inputs, run the view and dump its answer with the declared schema.

    ``query`` maps parameter names to values (extra names are ignored); ``body`` is the
    decoded JSON body, or None when there is none. Raises OperationInputError for unusable
    inputs; the caller has already checked the token and its scope.
    """
    inputs = load_inputs(declared.operation, query, body)
    return to_result(declared.operation, declared.view(**path_args, **inputs))


def load_inputs(operation: ApiOperation, query: Mapping[str, Any], body: Any) -> dict[str, Any]:
    inputs: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    if operation.query is not None:
        # Unknown query parameters are ignored: callers add tracking parameters freely.
        try:
            inputs["query"] = schema_instance(operation.query, EXCLUDE).load(dict(query))
        except ValidationError as error:
            errors.update(_messages(error))
    if operation.body is not None:
        if not isinstance(body, dict):
            raise OperationInputError(400, "The request body must be a JSON object.")
        try:
            inputs["body"] = schema_instance(operation.body).load(body)
        except ValidationError as error:
            errors.update(_messages(error))
    if errors:
        names = ", ".join(sorted(errors))
        raise OperationInputError(422, f"Some fields are invalid: {names}.", errors)
    return inputs


def _messages(error: ValidationError) -> dict[str, list[str]]:
    """One flat list of messages per field, whatever shape marshmallow reported."""
    raw = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
    flat: dict[str, list[str]] = {}
    for name, value in raw.items():
        if isinstance(value, dict):
            value = [str(message) for messages in value.values() for message in messages]
        elif not isinstance(value, list):
            value = [str(value)]
        flat["body" if name == "_schema" else str(name)] = [str(message) for message in value]
    return flat


def to_result(operation: ApiOperation, answer: Any) -> OperationResult:
    if isinstance(answer, Response):
        return OperationResult(answer.status_code, response=answer)
    data, status = answer if isinstance(answer, tuple) else (answer, 200)
    schema = operation.responses.get(status)
    if schema is not None:
        data = dump(schema, data)
    return OperationResult(status, data)


def dump(schema: type[Schema], data: Any) -> Any:
    """``data`` as ``schema`` writes it.

    A hot answer's schema may define ``plain_dump(data)``, writing the same JSON-ready value
    without marshmallow (a page of items costs several times less); tests compare the two
    for every schema that has one, so the OpenAPI document, built from the fields, holds.
    """
    plain: Callable[[Any], Any] | None = getattr(schema, "plain_dump", None)
    if plain is not None:
        return plain(data)
    return schema_instance(schema).dump(data)


def http_response(result: OperationResult) -> Response:
    if result.response is not None:
        return result.response
    if result.data is None:
        return Response(status=result.status)
    response = jsonify(result.data)
    response.status_code = result.status
    return response
