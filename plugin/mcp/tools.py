"""Every ``@api_operation`` as an MCP tool: its description, and one call of it.

A tool's name is the operationId; its title, description, input and output schemas come from
the same declaration (and the same JSON schemas) as the OpenAPI document, so the two can never
disagree. A call splits the arguments into path, query and body inputs and runs the view
through ``run_operation``, exactly as ``/api`` does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import mcp_types as types
from flask import Flask, current_app
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import RequestRedirect

from plugin.api.declarations import RegisteredOperation
from plugin.api.hints import tool_hints
from plugin.api.openapi import operation_schemas, path_arguments
from plugin.api.operations import find_operation, operations
from plugin.api.running import OperationInputError, OperationResult, run_operation, schema_instance
from plugin.api.urls import base_url
from plugin.database import discard_work
from plugin.mcp import apps

EXTENSION = "plugin.mcp.tools"
CONFIRM_WORDS = (
    "Nothing has happened yet. Give the person this link to confirm: {confirm_url} - "
    "it happens only after they open it and press Confirm."
)


def required_scope(registered: RegisteredOperation) -> str | None:
    return registered.operation.scope


MAX_TITLE = 64


def tool_title(summary: str, operation_id: str) -> str:
    """The summary when it is short enough for a title, else the operationId in words."""
    short = summary.rstrip(".")
    if len(short) <= MAX_TITLE:
        return short
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", operation_id).replace("_", " ").lower()
    return words[:1].upper() + words[1:]


def tool_for(app: Flask, registered: RegisteredOperation) -> types.Tool:
    """The MCP description of one operation."""
    operation = registered.operation
    schemas = operation_schemas(app, operation.operation_id)
    hints = tool_hints(registered)
    scopes = [operation.scope] if operation.scope else []
    return types.Tool(
        name=operation.operation_id,
        title=tool_title(operation.summary, operation.operation_id),
        description=" ".join(filter(None, (operation.summary, operation.description))),
        input_schema=schemas.input,
        output_schema=schemas.output,
        # Derived from the declaration, each with its reason (plugin/api/hints.py).
        annotations=types.ToolAnnotations(
            read_only_hint=hints["readOnlyHint"].value,
            destructive_hint=hints["destructiveHint"].value,
            idempotent_hint=hints["idempotentHint"].value,
            open_world_hint=hints["openWorldHint"].value,
        ),
        # ChatGPT's apps read the scopes a tool needs from here, and ask for them up front;
        # hosts that show UIs read the rest (MCP Apps).
        _meta={
            "securitySchemes": [{"type": "oauth2", "scopes": scopes}],
            **apps.tool_meta(registered),
        },
    )


def list_tools(app: Flask | None = None) -> list[types.Tool]:
    """Every operation's tool, built once per public origin (descriptions hold URLs)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    cache: dict[str, list[types.Tool]] = app.extensions.setdefault(EXTENSION, {})
    base = base_url()
    if base not in cache:
        cache.clear()
        cache[base] = [tool_for(app, registered) for registered in operations(app)]
    return cache[base]


# ------------------------------------------------------------------ calling a tool


class UnknownTool(LookupError):
    pass


def call_tool(name: str, arguments: Mapping[str, Any]) -> types.CallToolResult:
    """Run the operation ``name`` with ``arguments``; failures the model can fix are isError."""
    registered = find_operation(name)
    if registered is None:
        raise UnknownTool(name)
    try:
        path_args = _path_args(registered, arguments)
        query, body = _split_inputs(registered, arguments)
        result = run_operation(registered.declared, path_args, query, body)
    except OperationInputError as error:
        return _error(error.description, fields=error.fields)
    except HTTPException as error:
        discard_work()
        return _error(error.description or "The call failed.")
    return _success(result)


def _path_args(registered: RegisteredOperation, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The URL's variable parts, checked by the route's own converters (ids in range, say)."""
    names = [name for name, _ in path_arguments(registered.rule)]
    if not names:
        return {}
    missing = [name for name in names if name not in arguments]
    if missing:
        raise OperationInputError(
            422,
            "Some fields are invalid: " + ", ".join(missing) + ".",
            {name: ["Missing data for required field."] for name in missing},
        )
    values = {name: _path_text(arguments[name]) for name in names}
    path = registered.rule
    for name, _ in path_arguments(registered.rule):
        start = path.index("<")
        path = path[:start] + quote(values[name], safe="") + path[path.index(">", start) + 1 :]
    adapter = current_app.url_map.bind("localhost")
    try:
        endpoint, converted = adapter.match(path, method=registered.method)
    except (NotFound, RequestRedirect, HTTPException):
        endpoint, converted = None, {}
    if endpoint != registered.endpoint:
        names_text = ", ".join(names)
        raise OperationInputError(
            422,
            f"Some fields are invalid: {names_text}.",
            {name: ["Not a valid value here."] for name in names},
        )
    return dict(converted)


def _path_text(value: Any) -> str:
    # Only whole numbers and strings can be part of a URL; anything else matches no route.
    if isinstance(value, bool) or not isinstance(value, int | str):
        return "\x00"
    return str(value)


def _split_inputs(
    registered: RegisteredOperation, arguments: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    operation = registered.operation
    path_names = {name for name, _ in path_arguments(registered.rule)}
    query_names: set[str] = set()
    if operation.query is not None:
        schema = schema_instance(operation.query)
        query_names = {field.data_key or name for name, field in schema.fields.items()}
    query = {name: value for name, value in arguments.items() if name in query_names}
    if operation.body is None:
        return query, None
    body = {
        name: value
        for name, value in arguments.items()
        if name not in path_names and name not in query_names
    }
    return query, body


def _success(result: OperationResult) -> types.CallToolResult:
    data = result.data
    if result.response is not None:
        data = result.response.get_json(silent=True)
    if data is None:
        return types.CallToolResult(content=[types.TextContent(text="Done.")])
    text = json.dumps(data, ensure_ascii=False)
    if isinstance(data, dict) and data.get("status") == "pending_confirmation":
        text = CONFIRM_WORDS.format(confirm_url=data.get("confirm_url")) + "\n" + text
    structured = data if isinstance(data, dict) else {"result": data}
    return types.CallToolResult(
        content=[types.TextContent(text=text)], structured_content=structured
    )


def _error(description: str, *, fields: dict[str, list[str]] | None = None) -> types.CallToolResult:
    """A result the model reads and can act on: what was wrong, one line per field."""
    lines = [description]
    lines += [f"{name}: {' '.join(messages)}" for name, messages in (fields or {}).items()]
    return types.CallToolResult(content=[types.TextContent(text="\n".join(lines))], is_error=True)
