"""The API's OpenAPI document, generated from the views that declare themselves with
``@api_operation``.

A view states its operationId, scope, inputs (marshmallow schemas) and answers once; the
decorator then demands the bearer token with that scope, applies the API rate limit,
validates the query string and the JSON body, serializes the answer, and the document is
built from the same declaration. Nothing is written twice, so the document cannot drift
from what the API does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, wraps
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask, Response, current_app, jsonify, request
from marshmallow import EXCLUDE, Schema, ValidationError, fields

from plugin.chatgpt.urls import base_url, external_url
from plugin.errors import json_error
from plugin.extensions import csrf, limiter
from plugin.oauth.protect import current_token, require_oauth
from plugin.oauth.scopes import SCOPES

OPENAPI_VERSION = "3.0.1"
CACHED_ORIGINS = 8
SCHEME = "oauth2"
VIEW_ATTRIBUTE = "api_operation"
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


class ErrorSchema(Schema):
    error = fields.String(required=True, metadata={"description": "A machine-readable code."})
    error_description = fields.String(metadata={"description": "What went wrong, in words."})
    field_errors = fields.Dict(
        data_key="fields",
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "For invalid input: field name → messages."},
    )


@dataclass(frozen=True)
class ApiOperation:
    """What one view promises: how it is called, what it needs and what it answers."""

    operation_id: str
    summary: str
    description: str = ""
    scope: str | None = None
    consequential: bool = False
    query: type[Schema] | None = None
    body: type[Schema] | None = None
    responses: dict[int, type[Schema] | None] = field(default_factory=dict)
    path_params: dict[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = ()


def api_operation(
    operation_id: str,
    *,
    summary: str,
    description: str = "",
    scope: str | None,
    consequential: bool = False,
    query: type[Schema] | None = None,
    body: type[Schema] | None = None,
    responses: dict[int, type[Schema] | None],
    path_params: dict[str, str] | None = None,
    tags: tuple[str, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare an API view: protect, limit, validate and document it in one place.

    The view receives the loaded inputs as ``query=`` and ``body=`` keyword arguments and
    returns either a Response, or ``data`` / ``(data, status)``; ``data`` is dumped with the
    schema declared for that status. ``scope=None`` accepts any valid token.
    """
    operation = ApiOperation(
        operation_id=operation_id,
        summary=summary,
        description=description,
        scope=scope,
        consequential=consequential,
        query=query,
        body=body,
        responses=dict(responses),
        path_params=dict(path_params or {}),
        tags=tags,
    )

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def handle(*args: Any, **kwargs: Any) -> Response:
            inputs = _load_inputs(operation)
            if isinstance(inputs, Response):
                return inputs
            return _to_response(operation, view(*args, **kwargs, **inputs))

        limited = limiter.shared_limit(
            _api_rate_limit, scope="api", key_func=_api_rate_key, error_message=TOO_MANY
        )(handle)
        protected = require_oauth(scope)(limited)
        setattr(protected, VIEW_ATTRIBUTE, operation)
        # Bearer tokens, not cookies, authenticate these calls: there is nothing to forge.
        return csrf.exempt(protected)

    return decorate


TOO_MANY = "Too many requests. Wait a minute and try again."


def _api_rate_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


def _api_rate_key() -> str:
    # Counted per person, however many tokens or addresses their requests come from.
    return f"api-user:{current_token.user_id}"


@cache
def schema_instance(schema: type[Schema], unknown: str | None = None) -> Schema:
    """One shared instance per schema: building one costs more than a whole small dump."""
    return schema(unknown=unknown) if unknown else schema()


def _load_inputs(operation: ApiOperation) -> dict[str, Any] | Response:
    inputs: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    if operation.query is not None:
        # Unknown query parameters are ignored: callers add tracking parameters freely.
        try:
            inputs["query"] = schema_instance(operation.query, EXCLUDE).load(request.args.to_dict())
        except ValidationError as error:
            errors.update(_messages(error))
    if operation.body is not None:
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            return json_error(400, "The request body must be a JSON object.")
        try:
            inputs["body"] = schema_instance(operation.body).load(payload)
        except ValidationError as error:
            errors.update(_messages(error))
    if errors:
        names = ", ".join(sorted(errors))
        return json_error(422, f"Some fields are invalid: {names}.", fields=errors)
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


def _to_response(operation: ApiOperation, result: Any) -> Response:
    if isinstance(result, Response):
        return result
    data, status = result if isinstance(result, tuple) else (result, 200)
    schema = operation.responses.get(status)
    if schema is None:
        response = Response(status=status) if data is None else jsonify(data)
    else:
        response = jsonify(schema_instance(schema).dump(data))
    response.status_code = status
    return response


# ------------------------------------------------------------------ the document


def documented_operations(app: Flask) -> list[tuple[str, str, ApiOperation, Any]]:
    """``(path template, method, operation, rule)`` for every declared view of ``app``."""
    found = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        operation = getattr(view, VIEW_ATTRIBUTE, None)
        if operation is None:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((_openapi_path(rule), method.lower(), operation, rule))
    return found


def _openapi_path(rule: Any) -> str:
    return RULE_ARGUMENT.sub(lambda match: "{" + match.group("name") + "}", rule.rule)


def _rule_arguments(rule: Any) -> list[tuple[dict[str, Any], str]]:
    """``(parameter schema, name)`` for each variable part of a Flask rule, in order."""
    found = []
    for match in RULE_ARGUMENT.finditer(rule.rule):
        schema = dict(CONVERTER_TYPES.get(match.group("converter") or "", {"type": "string"}))
        for bound in CONVERTER_BOUND.finditer(match.group("args") or ""):
            key = "minimum" if bound.group("key") == "min" else "maximum"
            schema[key] = int(bound.group("value"))
        found.append((schema, match.group("name")))
    return found


def openapi_document(app: Flask) -> dict[str, Any]:
    """The document for this request's public origin, built once per origin."""
    base = base_url()
    cache = app.extensions.setdefault("openapi_documents", {})
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
                    "scopes": dict(SCOPES),
                }
            },
        },
    )
    spec.components.schema("Error", schema=ErrorSchema)
    paths: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    for path, method, operation, rule in documented_operations(app):
        if operation.operation_id in seen and method not in paths.get(path, {}):
            raise ValueError(f"operationId {operation.operation_id!r} is declared twice")
        seen.add(operation.operation_id)
        parameters = _path_parameters(operation, rule)
        paths.setdefault(path, {"parameters": parameters})[method] = _operation(
            operation, has_path_parameters=bool(parameters)
        )
    for path, operations in sorted(paths.items()):
        parameters = operations.pop("parameters")
        spec.path(path=path, operations=operations, parameters=parameters or None)
    return spec.to_dict()


def _path_parameters(operation: ApiOperation, rule: Any) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "description": operation.path_params.get(
                name, name.replace("_", " ").capitalize() + "."
            ),
            "schema": schema,
        }
        for schema, name in _rule_arguments(rule)
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
        answer: dict[str, Any] = {"description": _success_words(status)}
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


def _success_words(status: int) -> str:
    return SUCCESS_WORDS.get(status, "Success.")


SUCCESS_WORDS = {
    200: "OK.",
    201: "Created.",
    202: "Accepted: nothing happens until the person confirms on the confirm_url page.",
    204: "Done.",
}
