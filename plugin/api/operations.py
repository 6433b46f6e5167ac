"""API operations, declared once with ``@api_operation``: the registry and ``run_operation``.

A view states its operationId, scope, inputs (marshmallow schemas) and answers once. Over
HTTP the decorator demands the bearer token with that scope, applies the API rate limit and
runs the operation; the OpenAPI document (``openapi.py``) and any other consumer read the
same declarations from the app's registry. Nothing is written twice, so no description can
drift from what the API does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache, wraps
from typing import Any, Literal, cast

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from flask.blueprints import BlueprintSetupState
from marshmallow import EXCLUDE, Schema, ValidationError

from plugin.config import text_setting
from plugin.errors import json_error
from plugin.extensions import csrf, limiter
from plugin.oauth.protect import current_token, require_oauth
from plugin.oauth.scopes import register_scope
from plugin.paths import register_paths

EXTENSION = "plugin.operations"
Visibility = Literal["model", "app"]
# Where the decorator leaves its declaration for ApiBlueprint to find when the view is routed.
DECLARATION = "__api_operation__"
TOO_MANY = "Too many requests. Wait a minute and try again."
# The MCP tool annotations an operation may set itself (``annotations=``); the rest are
# derived from its method and ``consequential`` (``plugin.api.hints``).
HINT_NAMES = ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint")
PROMPTS = "plugin.example_prompts"


@dataclass(frozen=True)
class OperationUi:
    """A UI the host shows with the operation's result (MCP Apps), and what it may reach.

    ``template`` is a Jinja template rendered once into one self-contained HTML document. The
    domains are what its Content-Security-Policy allows beyond it: none unless it must load
    (``resource_domains``), fetch (``connect_domains``) or embed (``frame_domains``) something.
    Operations whose answers the same UI shows share one ``OperationUi``.
    """

    template: str
    title: str = ""
    connect_domains: tuple[str, ...] = ()
    resource_domains: tuple[str, ...] = ()
    frame_domains: tuple[str, ...] = ()
    base_uri_domains: tuple[str, ...] = ()
    prefers_border: bool = True


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
    # Hint name -> (value, one-line reason), overriding what is derived.
    annotations: dict[str, tuple[bool, str]] = field(default_factory=dict)
    ui: OperationUi | None = None
    # Who may call it as a tool: the model, a UI ("app"), or both; ("app",) hides a UI's helper.
    visibility: tuple[Visibility, ...] = ("model", "app")

    @property
    def success_status(self) -> int:
        """The status of a successful answer (the lowest declared)."""
        return min(self.responses, default=200)


@dataclass(frozen=True)
class DeclaredOperation:
    """A declaration and the view function that carries it out."""

    operation: ApiOperation
    view: Callable[..., Any]


@dataclass(frozen=True)
class RegisteredOperation:
    """A declared operation as routed on one app."""

    declared: DeclaredOperation
    method: str
    rule: str
    endpoint: str

    @property
    def operation(self) -> ApiOperation:
        return self.declared.operation


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

        protected: Callable[..., Response] = require_oauth(scope)(limit_like_api(handle))
        setattr(protected, DECLARATION, declared)
        # Bearer tokens, not cookies, authenticate these calls: there is nothing to forge.
        exempted: Callable[..., Response] = csrf.exempt(protected)
        return exempted

    return decorate


def limit_like_api(view: Callable[..., Response]) -> Callable[..., Response]:
    """Count each call of ``view`` against the person's API rate limit, shared by every
    surface that runs operations; the caller must have checked the token already."""
    limited: Callable[..., Response] = limiter.shared_limit(
        text_setting("API_RATE_LIMIT"), scope="api", key_func=_api_rate_key, error_message=TOO_MANY
    )(view)
    return limited


def _api_rate_key() -> str:
    # Counted per person, however many tokens or addresses their requests come from.
    return f"api-user:{current_token.user_id}"


@dataclass(frozen=True)
class ExamplePrompts:
    """What a person might say that should use these operations, and what should not: the
    directories' submission forms ask for both (``flask check --directory``)."""

    should_use: tuple[str, ...] = ()
    should_not_use: tuple[str, ...] = ()

    def __add__(self, other: ExamplePrompts) -> ExamplePrompts:
        return ExamplePrompts(
            self.should_use + other.should_use, self.should_not_use + other.should_not_use
        )


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


# ------------------------------------------------------------------ running one call


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
