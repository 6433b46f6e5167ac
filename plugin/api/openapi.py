"""The API's OpenAPI document, built with apispec from the app's registry of operations.

Each operation's input and output JSON schemas are offered too (``operation_schemas``), so
that other descriptions of the same operations reuse exactly what the document says.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from marshmallow import Schema, fields

from plugin.api.declarations import ApiOperation, RegisteredOperation
from plugin.api.operations import operations
from plugin.api.urls import base_url, external_url
from plugin.oauth.scopes import scopes

OPENAPI_VERSION = "3.0.1"
CACHED_ORIGINS = 8
SCHEME = "oauth2"
ERROR_STATUSES = {
    400: "The request is malformed (for example, the body is not a JSON object).",
    401: "The access token is missing, invalid, expired or revoked.",
    403: "The access token lacks the scope this operation needs.",
    404: "Nothing with that id belongs to the signed-in person.",
    422: "A field is invalid; `fields` lists one message per field.",
    429: "Too many requests; wait and try again.",
}
RULE_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\((?P<args>[^)]*)\))?:)?(?P<name>\w+)>")
CONVERTER_BOUND = re.compile(r"\b(?P<key>min|max)\s*=\s*(?P<value>-?\d+)")
# Flask's URL converters as OpenAPI parameter schemas.
CONVERTER_TYPES = {"int": {"type": "integer"}, "float": {"type": "number"}}
SUCCESS_WORDS = {
    200: "OK.",
    201: "Created.",
    202: "Accepted: nothing happens until the person confirms on the confirm_url page.",
    204: "Done.",
}


class ErrorSchema(Schema):
    error = fields.String(required=True, metadata={"description": "A machine-readable code."})
    error_description = fields.String(metadata={"description": "What went wrong, in words."})
    field_errors = fields.Dict(
        data_key="fields",
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "For invalid input: field name → messages."},
    )


def openapi_path(rule: str) -> str:
    """A Flask rule as an OpenAPI path template: ``/todos/<int:todo_id>`` → ``/todos/{todo_id}``."""
    return RULE_ARGUMENT.sub(lambda match: "{" + match.group("name") + "}", rule)


def path_arguments(rule: str) -> list[tuple[str, dict[str, Any]]]:
    """``(name, JSON schema)`` for each variable part of a Flask rule, in order."""
    found = []
    for match in RULE_ARGUMENT.finditer(rule):
        schema: dict[str, Any] = dict(
            CONVERTER_TYPES.get(match.group("converter") or "", {"type": "string"})
        )
        for bound in CONVERTER_BOUND.finditer(match.group("args") or ""):
            key = "minimum" if bound.group("key") == "min" else "maximum"
            schema[key] = int(bound.group("value"))
        found.append((match.group("name"), schema))
    return found


def openapi_document(app: Flask) -> dict[str, Any]:
    """The document for this request's public origin, built once per origin."""
    base = base_url()
    cache: dict[str, dict[str, Any]] = app.extensions.setdefault("openapi_documents", {})
    if base not in cache:
        # Without PLUGIN_BASE_URL the origin comes from the Host header: keep only a few.
        while len(cache) >= CACHED_ORIGINS:
            cache.pop(next(iter(cache)))
        cache[base] = build_document(app, base)
    return cache[base]


def build_document(app: Flask, base: str) -> dict[str, Any]:
    config = app.config
    spec = APISpec(
        title=config["PLUGIN_NAME_FOR_HUMAN"],
        version="1.0.0",
        openapi_version=OPENAPI_VERSION,
        plugins=[MarshmallowPlugin()],
        info={"description": config["PLUGIN_DESCRIPTION_FOR_HUMAN"]},
        servers=[{"url": base}],
    )
    spec.components.security_scheme(
        SCHEME,
        {
            "type": "oauth2",
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": external_url("oauth.authorize"),
                    "tokenUrl": external_url("oauth.issue_token"),
                    "scopes": dict(scopes(app)),
                }
            },
        },
    )
    spec.components.schema("Error", schema=ErrorSchema)
    paths: dict[str, dict[str, Any]] = {}
    for registered in operations(app):
        path = openapi_path(registered.rule)
        parameters = _path_parameters(registered)
        paths.setdefault(path, {"parameters": parameters})[registered.method.lower()] = _operation(
            registered.operation, has_path_parameters=bool(parameters)
        )
    for path, path_operations in sorted(paths.items()):
        parameters = path_operations.pop("parameters")
        spec.path(path=path, operations=path_operations, parameters=parameters or None)
    return spec.to_dict()


def _path_parameters(registered: RegisteredOperation) -> list[dict[str, Any]]:
    described = registered.operation.path_params
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "description": described.get(name, name.replace("_", " ").capitalize() + "."),
            "schema": schema,
        }
        for name, schema in path_arguments(registered.rule)
    ]


def _operation(operation: ApiOperation, *, has_path_parameters: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"operationId": operation.operation_id, "summary": operation.summary}
    if operation.description:
        body["description"] = operation.description
    body |= {
        "security": [{SCHEME: [operation.scope] if operation.scope else []}],
        "responses": {},
        "x-openai-isConsequential": operation.consequential,
    }
    if operation.tags:
        body["tags"] = list(operation.tags)
    if operation.query is not None:
        body["parameters"] = [{"in": "query", "schema": operation.query}]
    if operation.body is not None:
        body["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": operation.body}},
        }
    for status, schema in sorted(operation.responses.items()):
        answer: dict[str, Any] = {"description": SUCCESS_WORDS.get(status, "Success.")}
        if schema is not None:
            answer["content"] = {"application/json": {"schema": schema}}
        body["responses"][str(status)] = answer
    for status, words in ERROR_STATUSES.items():
        if status == 422 and operation.query is None and operation.body is None:
            continue
        if status == 400 and operation.body is None:
            continue
        if status == 404 and not has_path_parameters:
            continue
        body["responses"][str(status)] = _error_response(words)
    body["responses"]["default"] = _error_response("Any other error, in the same envelope.")
    return body


def _error_response(words: str) -> dict[str, Any]:
    return {"description": words, "content": {"application/json": {"schema": ErrorSchema}}}


# ------------------------------------------------------------------ JSON schemas per operation


@dataclass(frozen=True)
class OperationSchemas:
    """An operation's inputs as one JSON object schema, and its successful answer's schema."""

    input: dict[str, Any]
    output: dict[str, Any] | None


def operation_schemas(app: Flask, operation_id: str) -> OperationSchemas:
    """The JSON schemas of one operation, taken from the document (references inlined).

    Path, query and body fields become properties of one object; a field name used in two
    places would be ambiguous, so that is refused.
    """
    document = openapi_document(app)
    components = document.get("components", {}).get("schemas", {})
    for path_item in document["paths"].values():
        for entry in path_item.values():
            if not isinstance(entry, dict) or entry.get("operationId") != operation_id:
                continue
            parameters = list(path_item.get("parameters", [])) + list(entry.get("parameters", []))
            return OperationSchemas(
                input=_input_schema(operation_id, parameters, entry, components),
                output=_output_schema(entry, components),
            )
    raise KeyError(f"no operation {operation_id!r}")


def _input_schema(
    operation_id: str,
    parameters: list[dict[str, Any]],
    entry: dict[str, Any],
    components: dict[str, Any],
) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []

    def add(name: str, schema: dict[str, Any], is_required: bool) -> None:
        if name in properties:
            raise ValueError(f"{operation_id}: the input {name!r} is declared twice")
        properties[name] = schema
        if is_required:
            required.append(name)

    for parameter in parameters:
        schema = json_schema(parameter.get("schema", {}), components)
        if parameter.get("description") and "description" not in schema:
            schema["description"] = parameter["description"]
        add(parameter["name"], schema, bool(parameter.get("required")))
    body = entry.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None:
        body_schema = json_schema(body["schema"], components)
        for name, schema in body_schema.get("properties", {}).items():
            add(name, schema, name in body_schema.get("required", []))
    result: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        result["required"] = required
    if body is not None and body_schema.get("additionalProperties") is False:
        result["additionalProperties"] = False
    return result


def _output_schema(entry: dict[str, Any], components: dict[str, Any]) -> dict[str, Any] | None:
    successes = sorted(status for status in entry["responses"] if status.startswith("2"))
    for status in successes:
        content = entry["responses"][status].get("content", {}).get("application/json")
        if content is not None:
            return json_schema(content["schema"], components)
    return None


# Words about a value, kept beside ``anyOf`` rather than inside one of its branches.
ANNOTATIONS = ("title", "description", "default", "example", "readOnly", "writeOnly")


def json_schema(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI 3.0 schema as portable JSON Schema: references inlined, ``nullable`` as
    ``anyOf`` with a ``null`` branch, a free-form object's ``additionalProperties`` as true.

    Every ``type`` stays a single name: hosts that map tool schemas onto a one-type dialect
    (Gemini's function declarations, the MCP Inspector's portability check) reject a list.
    """
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return json_schema(components[name], components)
    result = copy.deepcopy(schema)
    if result.pop("nullable", False) and "type" in result:
        outer = {key: result.pop(key) for key in ANNOTATIONS if key in result}
        return outer | {"anyOf": [json_schema(result, components), {"type": "null"}]}
    if result.get("additionalProperties") == {}:
        # apispec's spelling of a free-form dict; ``{}`` constrains nothing, as ``true`` says.
        result["additionalProperties"] = True
    for key in ("properties",):
        if key in result:
            result[key] = {
                name: json_schema(value, components) for name, value in result[key].items()
            }
    for key in ("items", "additionalProperties"):
        if isinstance(result.get(key), dict):
            result[key] = json_schema(result[key], components)
    for key in ("allOf", "anyOf", "oneOf"):
        if key in result:
            result[key] = [json_schema(value, components) for value in result[key]]
    return result
