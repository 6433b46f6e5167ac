"""API operations, declared once with ``@api_operation``: the decorator and the app's registry.

A view states its operationId, scope, inputs (marshmallow schemas) and answers once. Over
HTTP the decorator demands the bearer token with that scope, applies the API rate limit and
runs the operation (``running.py``); the OpenAPI document (``openapi.py``) and any other
consumer read the same declarations (``declarations.py``) from the app's registry. Nothing is
written twice, so no description can drift from what the API does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, cast

from flask import Blueprint, Flask, Response, current_app, request
from flask.blueprints import BlueprintSetupState
from marshmallow import Schema

from plugin.api.declarations import (
    HINT_NAMES,
    ApiOperation,
    DeclaredOperation,
    ExamplePrompts,
    OperationUi,
    RegisteredOperation,
    ServedUi,
    Visibility,
)
from plugin.api.hints import changes_nothing
from plugin.api.ratelimit import limit_like_api
from plugin.api.running import OperationInputError, http_response, run_operation
from plugin.database import read_without_transaction
from plugin.errors import json_error
from plugin.extensions import csrf
from plugin.oauth.resources.protect import require_oauth
from plugin.oauth.scopes import register_scope
from plugin.paths import register_paths

# What an operator's feature imports from here (the declarations live beside it).
__all__ = [
    "ApiBlueprint",
    "ApiOperation",
    "ExamplePrompts",
    "OperationUi",
    "RegisteredOperation",
    "api_operation",
    "example_prompts",
    "find_operation",
    "limit_like_api",
    "operations",
]

EXTENSION = "plugin.operations"
# Where the decorator leaves its declaration for ApiBlueprint to find when the view is routed.
DECLARATION = "__api_operation__"
PROMPTS = "plugin.example_prompts"
UI_SERVER = "plugin.ui_server"


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
    annotations: Mapping[str, tuple[bool, str]] | None = None,
    ui: OperationUi | str | None = None,
    visibility: tuple[Visibility, ...] = ("model", "app"),
) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """Declare an API view: protect, limit, validate and document it in one place.

    The view receives the loaded inputs as ``query=`` and ``body=`` keyword arguments and
    returns either a Response, or ``data`` / ``(data, status)``; ``data`` is dumped with the
    schema declared for that status. ``scope=None`` accepts any valid token. ``ui`` names a
    template (or an ``OperationUi``) that hosts show with the result. Route it on an
    ``ApiBlueprint`` so that the app's registry knows it. ``annotations`` overrides derived
    tool hints, each with its reason: ``{"openWorldHint": (True, "It sends e-mail.")}``.
    """
    unknown = set(annotations or {}) - set(HINT_NAMES)
    if unknown:
        raise ValueError(f"{operation_id}: unknown annotations {sorted(unknown)}")
    if not visibility or not set(visibility) <= {"model", "app"}:
        raise ValueError(f"{operation_id}: visibility must be model, app or both")
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
        annotations=dict(annotations or {}),
        ui=OperationUi(ui) if isinstance(ui, str) else ui,
        visibility=tuple(visibility),
    )

    def decorate(view: Callable[..., Any]) -> Callable[..., Response]:
        declared = DeclaredOperation(operation, view)

        @wraps(view)
        def handle(**path_args: Any) -> Response:
            try:
                body = request.get_json(silent=True) if operation.body is not None else None
                result = run_operation(declared, path_args, request.args, body)
            except OperationInputError as error:
                extra = {"fields": error.fields} if error.fields else {}
                return json_error(error.status, error.description, **extra)
            return http_response(result)

        checked: Callable[..., Response] = require_oauth(scope)(limit_like_api(handle))

        @wraps(checked)
        def protected(**path_args: Any) -> Response:
            if changes_nothing(operation, request.method):
                read_without_transaction()
            return checked(**path_args)

        setattr(protected, DECLARATION, declared)
        # Bearer tokens, not cookies, authenticate these calls: there is nothing to forge.
        exempted: Callable[..., Response] = csrf.exempt(protected)
        return exempted

    return decorate


class ApiBlueprint(Blueprint):
    """A blueprint whose ``@api_operation`` views, the scopes they use and the example prompts
    for them join the app's registry when it is registered."""

    def __init__(
        self,
        name: str,
        import_name: str,
        *,
        scopes: Mapping[str, str] | None = None,
        example_prompts: ExamplePrompts | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name, import_name, **kwargs)
        self.declared_scopes = dict(scopes or {})
        self.example_prompts = example_prompts
        self.record(self._register_scopes_and_paths)

    def _register_scopes_and_paths(self, state: BlueprintSetupState) -> None:
        for name, words in self.declared_scopes.items():
            register_scope(cast(Flask, state.app), name, words)
        if self.example_prompts is not None:
            state.app.extensions.setdefault(PROMPTS, []).append(self.example_prompts)
        if state.url_prefix:
            # Programs call the API: JSON errors, and ChatGPT's pages may fetch it.
            prefix = state.url_prefix.rstrip("/") + "/"
            register_paths(cast(Flask, state.app), "machine", prefixes=(prefix,))
            register_paths(cast(Flask, state.app), "cors", prefixes=(prefix,))

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: Callable[..., Any] | None = None,
        provide_automatic_options: bool | None = None,
        **options: Any,
    ) -> None:
        super().add_url_rule(rule, endpoint, view_func, provide_automatic_options, **options)
        declared: DeclaredOperation | None = getattr(view_func, DECLARATION, None)
        if declared is None:
            return
        name = endpoint or (view_func.__name__ if view_func else "")
        methods = sorted(set(options.get("methods") or ["GET"]) - {"HEAD", "OPTIONS"})

        def register(state: BlueprintSetupState) -> None:
            full_rule = rule
            if state.url_prefix is not None:
                full_rule = "/".join((state.url_prefix.rstrip("/"), rule.lstrip("/")))
            for method in methods:
                endpoint_name = f"{state.name_prefix}.{state.name}.{name}".lstrip(".")
                add_operation(
                    cast(Flask, state.app),
                    RegisteredOperation(declared, method.upper(), full_rule, endpoint_name),
                )

        self.record(register)


def add_operation(app: Flask, registered: RegisteredOperation) -> None:
    """Add an operation to ``app``'s registry; an operationId names one operation only."""
    registry: dict[str, RegisteredOperation] = app.extensions.setdefault(EXTENSION, {})
    operation_id = registered.operation.operation_id
    if operation_id in registry:
        raise ValueError(f"operationId {operation_id!r} is declared twice")
    registry[operation_id] = registered


def operations(app: Flask | None = None) -> list[RegisteredOperation]:
    """Every operation routed on ``app`` (default: the current app), in declaration order."""
    registry: dict[str, RegisteredOperation] = (app or current_app).extensions.get(EXTENSION, {})
    return list(registry.values())


def example_prompts(app: Flask | None = None) -> ExamplePrompts:
    """Every registered blueprint's example prompts, together."""
    declared: list[ExamplePrompts] = (app or current_app).extensions.get(PROMPTS, [])
    return sum(declared, ExamplePrompts())


def find_operation(operation_id: str, app: Flask | None = None) -> RegisteredOperation | None:
    registry: dict[str, RegisteredOperation] = (app or current_app).extensions.get(EXTENSION, {})
    return registry.get(operation_id)


def serve_uis_with(app: Flask, serve: Callable[[], list[ServedUi]]) -> None:
    """Name what serves the declared UIs (the MCP endpoint), so features below it can say how
    each is served without importing it."""
    app.extensions[UI_SERVER] = serve


def served_uis(app: Flask | None = None) -> list[ServedUi] | None:
    """Every declared UI as it is served; None when nothing serves UIs (MCP is off)."""
    serve: Callable[[], list[ServedUi]] | None = (app or current_app).extensions.get(UI_SERVER)
    return None if serve is None else serve()
