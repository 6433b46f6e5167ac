"""What an operation declares beside its inputs and answers: its tool, its UI and its prompts.

``@api_operation`` (``operations.py``) builds an ``ApiOperation`` from its arguments; the
OpenAPI document, the MCP tools, the UI resources and ``flask check --directory`` read these
declarations from the app's registry. ``OperationUi`` names the UI a host shows with the
result (MCP Apps), ``visibility`` who may call the tool, ``annotations`` the tool hints an
operation sets itself, and ``ExamplePrompts`` what people say that should (or should not) use it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from marshmallow import Schema

Visibility = Literal["model", "app"]
# The MCP tool annotations an operation may set itself (``annotations=``); the rest are
# derived from its method and ``consequential`` (``plugin.api.hints``).
HINT_NAMES = ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint")


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
class ServedUi:
    """A declared UI as the endpoint that serves it answers it: its URI and size in bytes."""

    ui: OperationUi
    uri: str
    size: int


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
