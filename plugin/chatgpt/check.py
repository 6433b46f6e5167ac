"""Lint a served manifest and OpenAPI document against what ChatGPT accepts.

``check_plugin(manifest, document)`` returns findings; the ``check`` command fetches both
(from a URL, or from this app in-process) and prints them.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any
from urllib.parse import urlsplit

import yaml
from jsonschema.exceptions import ValidationError as SchemaError
from openapi_spec_validator import validate as validate_spec
from openapi_spec_validator.exceptions import OpenAPIError
from referencing.exceptions import Unresolvable

from plugin.api.checks import Finding

NAME_FOR_MODEL = re.compile(r"[A-Za-z0-9_]{1,50}")
METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")
CONTENT_TYPES = ("application/json", "application/x-www-form-urlencoded")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
# Second-level labels under which a country's registrable domains sit (example.co.uk).
SHARED_SECOND_LEVELS = {"co", "com", "net", "org", "ac", "gov", "edu", "ne", "or"}


def check_plugin(manifest: Any, document: Any) -> list[Finding]:
    findings = check_manifest(manifest)
    if isinstance(manifest, dict) and document is not None:
        findings += check_document(document, manifest)
    return _merge_warnings(findings)


def _merge_warnings(findings: list[Finding]) -> list[Finding]:
    """One line for a warning that applies to many places (every URL on http, say)."""
    merged: list[Finding] = []
    places: dict[str, list[str]] = {}
    for finding in findings:
        if finding.severity != "warning":
            merged.append(finding)
        elif finding.message not in places:
            places[finding.message] = [finding.where]
        else:
            places[finding.message].append(finding.where)
    for message, wheres in places.items():
        where = wheres[0] if len(wheres) == 1 else f"{wheres[0]} and {len(wheres) - 1} more"
        merged.append(Finding(where, message, "warning"))
    return merged


def check_manifest(manifest: Any) -> list[Finding]:
    if not isinstance(manifest, dict):
        return [Finding("manifest", "is not a JSON object")]
    found: list[Finding] = []

    def need(condition: bool, where: str, message: str) -> None:
        if not condition:
            found.append(Finding(f"manifest.{where}", message))

    def section(name: str) -> dict[str, Any]:
        value = manifest.get(name)
        need(isinstance(value, dict), name, "is required")
        return value if isinstance(value, dict) else {}

    need(manifest.get("schema_version") == "v1", "schema_version", 'must be "v1"')
    name_for_human = manifest.get("name_for_human")
    need(_text(name_for_human, 20), "name_for_human", "must be 1 to 20 characters")
    name_for_model = manifest.get("name_for_model")
    need(
        isinstance(name_for_model, str) and bool(NAME_FOR_MODEL.fullmatch(name_for_model)),
        "name_for_model",
        "must be 1 to 50 letters, digits or underscores",
    )
    need(
        _text(manifest.get("description_for_human"), 100),
        "description_for_human",
        "must be 1 to 100 characters",
    )
    need(
        _text(manifest.get("description_for_model"), 8000),
        "description_for_model",
        "must be 1 to 8,000 characters",
    )
    need(_text(manifest.get("contact_email"), 320), "contact_email", "is required")
    need("@" in str(manifest.get("contact_email", "")), "contact_email", "is not an email address")

    auth = section("auth")
    need(auth.get("type") == "oauth", "auth.type", 'must be "oauth" for this server')
    need(
        auth.get("authorization_content_type") in CONTENT_TYPES,
        "auth.authorization_content_type",
        "must be " + " or ".join(CONTENT_TYPES),
    )
    need(
        isinstance(auth.get("scope"), str) and bool(auth.get("scope", "").strip()),
        "auth.scope",
        "should name the scopes ChatGPT asks for (an empty scope confuses some setups)",
    )
    tokens = auth.get("verification_tokens")
    if tokens is not None:
        need(
            isinstance(tokens, dict) and _text(tokens.get("openai"), 2000),
            "auth.verification_tokens",
            "must be an object with an openai token",
        )

    api = section("api")
    need(api.get("type") == "openapi", "api.type", 'must be "openapi"')
    need(
        api.get("is_user_authenticated") is False,
        "api.is_user_authenticated",
        "must be false with OAuth",
    )

    urls = {
        "auth.client_url": auth.get("client_url"),
        "auth.authorization_url": auth.get("authorization_url"),
        "api.url": api.get("url"),
        "logo_url": manifest.get("logo_url"),
        "legal_info_url": manifest.get("legal_info_url"),
    }
    home = registrable_domain(urls["api.url"])
    for where, url in urls.items():
        found += _check_url(f"manifest.{where}", url, home)
    logo = urls["logo_url"]
    if isinstance(logo, str) and logo.lower().endswith(".gif"):
        found.append(Finding("manifest.logo_url", "must not be a GIF (a 512×512 PNG is suggested)"))
    return found


def check_document(document: Any, manifest: dict[str, Any]) -> list[Finding]:
    if not isinstance(document, dict):
        return [Finding("openapi", "is not a JSON or YAML object")]
    found: list[Finding] = []
    try:
        validate_spec(document)
    except SchemaError as error:
        found.append(
            Finding("openapi", f"is not a valid OpenAPI document: {error.message.splitlines()[0]}")
        )
    except (OpenAPIError, Unresolvable) as error:
        found.append(Finding("openapi", f"is not a valid OpenAPI document: {error}"))
    if not str(document.get("openapi", "")).startswith(("3.0", "3.1")):
        found.append(Finding("openapi.openapi", "must be 3.0.x or 3.1.x"))
    home = registrable_domain((manifest.get("api") or {}).get("url"))
    servers = document.get("servers")
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], dict):
        found.append(Finding("openapi.servers", "must name the server: servers: [{url: <base>}]"))
    else:
        found += _check_url("openapi.servers[0].url", servers[0].get("url"), home)
    paths = document.get("paths")
    if not isinstance(paths, dict) or not paths:
        found.append(Finding("openapi.paths", "lists no operations"))
        return found
    seen: dict[str, str] = {}
    for path, item in paths.items():
        if not isinstance(item, dict):
            continue
        shared = item.get("parameters") or []
        for method in METHODS:
            operation = item.get(method)
            if isinstance(operation, dict):
                found += _check_operation(
                    f"{method.upper()} {path}", operation, shared, document, seen
                )
    return found


def _check_operation(
    where: str,
    operation: dict[str, Any],
    shared: list[Any],
    document: dict[str, Any],
    seen: dict[str, str],
) -> list[Finding]:
    found: list[Finding] = []
    operation_id = operation.get("operationId")
    if not operation_id:
        found.append(Finding(where, "has no operationId"))
    elif operation_id in seen:
        found.append(
            Finding(where, f"repeats the operationId {operation_id!r} of {seen[operation_id]}")
        )
    else:
        seen[operation_id] = where
    for key in ("summary", "description"):
        text = operation.get(key)
        if isinstance(text, str) and len(text) > 300:
            found.append(Finding(where, f"{key} is {len(text)} characters; at most 300"))
    if not operation.get("summary") and not operation.get("description"):
        found.append(Finding(where, "has neither summary nor description; the model picks by them"))
    if "x-openai-isConsequential" not in operation:
        found.append(Finding(where, "has no x-openai-isConsequential"))
    elif not isinstance(operation["x-openai-isConsequential"], bool):
        found.append(Finding(where, "x-openai-isConsequential must be true or false"))
    if "security" not in operation and "security" not in document:
        found.append(Finding(where, "has no security requirement", "warning"))
    for parameter in [*shared, *(operation.get("parameters") or [])]:
        parameter = _resolve(parameter, document)
        if not isinstance(parameter, dict):
            continue
        text = parameter.get("description")
        if isinstance(text, str) and len(text) > 700:
            name = parameter.get("name", "?")
            found.append(
                Finding(
                    where, f"parameter {name} description is {len(text)} characters; at most 700"
                )
            )
    return found


def _resolve(node: Any, document: dict[str, Any]) -> Any:
    if isinstance(node, dict) and isinstance(node.get("$ref"), str):
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        return target
    return node


def _text(value: Any, limit: int) -> bool:
    return isinstance(value, str) and 0 < len(value.strip()) and len(value) <= limit


def _check_url(where: str, url: Any, home: str | None) -> list[Finding]:
    if not isinstance(url, str) or not url:
        return [Finding(where, "is required")]
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return [Finding(where, f"must be an absolute URL (got {url!r})")]
    found = []
    if parts.scheme == "http":
        if parts.hostname in LOCAL_HOSTS:
            found.append(
                Finding(where, "uses http: ChatGPT only reaches public https hosts", "warning")
            )
        else:
            found.append(Finding(where, f"must use https (got {url!r})"))
    if home and registrable_domain(url) != home:
        found.append(Finding(where, f"is not on the plugin's domain {home} (got {parts.hostname})"))
    return found


def registrable_domain(url: Any) -> str | None:
    """The site a URL belongs to: ``api.example.com`` → ``example.com`` (an approximation)."""
    if not isinstance(url, str):
        return None
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if not host:
        return None
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    labels = host.split(".")
    keep = (
        3 if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in SHARED_SECOND_LEVELS else 2
    )
    return ".".join(labels[-keep:])


def parse_document(text: str) -> Any:
    """A document served as JSON or YAML."""
    try:
        return json.loads(text)
    except ValueError:
        return yaml.safe_load(text)
