"""Lint the MCP side of ``flask check``: tools within the clients' limits, and the metadata chain.

``check_tools`` reads a ``tools/list`` answer; ``check_metadata`` follows protected-resource
metadata to the authorization server's. Both return the same ``Finding`` as the plugin check
(plugin/api/checks.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import current_app
from jinja2 import TemplateError
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from mcp.shared.tool_name_validation import validate_tool_name

from plugin.api.checks import FetchError, Finding
from plugin.mcp.tools import MAX_TITLE, list_tools
from plugin.oauth.resources.audiences import MCP_PATH, PRM_PATH

# What ChatGPT and Claude show and send to the model without cutting (the stricter of the two).
MAX_DESCRIPTION = 1024
HINTS = ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint")


def check_tools(tools: Any) -> list[Finding]:
    if not isinstance(tools, list) or not tools:
        return [Finding("mcp.tools", "lists no tools")]
    found: list[Finding] = []
    seen: set[str] = set()
    for tool in tools:
        name = tool.get("name") if isinstance(tool, dict) else None
        where = f"mcp.tools[{name}]"
        if not isinstance(name, str) or not validate_tool_name(name).is_valid:
            found.append(Finding(where, "name must be 1-64 letters, digits, _ - or ."))
            continue
        if name in seen:
            found.append(Finding(where, "is listed twice"))
        seen.add(name)
        found += _check_tool(where, tool)
    return found


def _check_tool(where: str, tool: dict[str, Any]) -> list[Finding]:
    found: list[Finding] = []
    title, description = tool.get("title"), tool.get("description")
    if not isinstance(title, str) or not 0 < len(title) <= MAX_TITLE:
        found.append(Finding(where, f"title must be 1 to {MAX_TITLE} characters"))
    if not isinstance(description, str) or not 0 < len(description) <= MAX_DESCRIPTION:
        found.append(Finding(where, f"description must be 1 to {MAX_DESCRIPTION} characters"))
    for key, required in (("inputSchema", True), ("outputSchema", False)):
        schema = tool.get(key)
        if schema is None and not required:
            continue
        if not isinstance(schema, dict) or schema.get("type") != "object":
            found.append(Finding(where, f"{key} must be a JSON schema of type object"))
            continue
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as error:
            found.append(Finding(where, f"{key} is not a valid JSON schema: {error.message}"))
    annotations = tool.get("annotations")
    missing = [hint for hint in HINTS if not isinstance((annotations or {}).get(hint), bool)]
    if missing:
        # OpenAI's review refuses apps whose read-only and destructive labels are missing.
        found.append(Finding(where, "annotations lack " + ", ".join(missing)))
    return found


def check_metadata(resource_url: str, resource: Any, server: Any) -> list[Finding]:
    """Protected-resource metadata names this endpoint and an issuer whose metadata agrees."""
    if resource is None:
        return [Finding("mcp.resource_metadata", "is not served: clients cannot find the issuer")]
    if not isinstance(resource, dict):
        return [Finding("mcp.resource_metadata", "is not a JSON object")]
    found: list[Finding] = []
    if resource.get("resource") != resource_url:
        found.append(Finding("mcp.resource_metadata.resource", f"must be exactly {resource_url}"))
    issuers = resource.get("authorization_servers")
    if not isinstance(issuers, list) or not issuers:
        found.append(Finding("mcp.resource_metadata.authorization_servers", "names no issuer"))
    elif not isinstance(server, dict):
        found.append(Finding("mcp.authorization_server", "metadata could not be read"))
    elif server.get("issuer") != issuers[0]:
        found.append(
            Finding(
                "mcp.authorization_server.issuer", f"must be {issuers[0]!r} as the resource says"
            )
        )
    if resource.get("bearer_methods_supported", ["header"]) != ["header"]:
        found.append(
            Finding("mcp.resource_metadata", 'bearer_methods_supported must be ["header"]')
        )
    return found


def check_mcp(fetch: Callable[[str], str], origin: str) -> list[Finding]:
    """The tools this app declares (always in-process), and the metadata ``origin`` serves."""
    with current_app.test_request_context(base_url=origin):
        try:
            tools = [
                tool.model_dump(by_alias=True, mode="json", exclude_none=True)
                for tool in list_tools()
            ]
            found = check_tools(tools)
        except (TemplateError, ValueError) as error:
            # A UI that cannot be rendered breaks tools/list; the mcp.ui lines say why.
            found = [Finding("mcp.tools", f"cannot be listed: {error}")]
    resource = _fetch_json(fetch, origin + PRM_PATH + MCP_PATH)
    server = None
    if isinstance(resource, dict):
        issuers = resource.get("authorization_servers") or []
        if issuers and isinstance(issuers[0], str):
            issuer = issuers[0].rstrip("/")
            server = _fetch_json(fetch, issuer + "/.well-known/oauth-authorization-server")
    return found + check_metadata(origin + MCP_PATH, resource, server)


def _fetch_json(fetch: Callable[[str], str], url: str) -> Any:
    try:
        return json.loads(fetch(url))
    except (FetchError, ValueError):
        return None
