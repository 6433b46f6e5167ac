"""Each operation's tool annotations, derived from its declaration, with a reason for each.

The MCP tools carry the four hints; ``flask check --directory`` prints them with their
reasons, which OpenAI's submission form asks for. An operation overrides any of them with
``@api_operation(..., annotations={"openWorldHint": (True, "It posts to the person's
calendar.")})``: a value and its one-line reason together.
"""

from __future__ import annotations

from dataclasses import dataclass

from plugin.api.declarations import HINT_NAMES, ApiOperation, RegisteredOperation

# HTTP methods that change nothing, and those whose repeat has no further effect (RFC 9110).
SAFE_METHODS = frozenset({"GET", "HEAD"})
IDEMPOTENT_METHODS = SAFE_METHODS | {"PUT", "DELETE"}

__all__ = ["HINT_NAMES", "Hint", "changes_nothing", "tool_hints"]


@dataclass(frozen=True)
class Hint:
    """One annotation's value and the sentence that justifies it."""

    value: bool
    why: str
    declared: bool = False  # set by the operation rather than derived


def changes_nothing(operation: ApiOperation, method: str) -> bool:
    """Whether a call of ``operation`` by ``method`` only reads: its readOnlyHint, declared
    or derived from the method."""
    declared = operation.annotations.get("readOnlyHint")
    return declared[0] if declared is not None else method in SAFE_METHODS


def tool_hints(registered: RegisteredOperation) -> dict[str, Hint]:
    """The four hints of ``registered``, in ``HINT_NAMES`` order."""
    operation = registered.operation
    method = registered.method
    read_only = method in SAFE_METHODS
    hints = {
        "readOnlyHint": Hint(
            read_only,
            f"A {method} call: it reads the person's data and changes nothing."
            if read_only
            else f"A {method} call: it changes the person's data.",
        ),
        "destructiveHint": _destructive(read_only, operation.consequential),
        "idempotentHint": _idempotent(method, operation.consequential),
        "openWorldHint": Hint(
            False, "It reaches only the person's own data on this server, nothing outside it."
        ),
    }
    for name, (value, why) in operation.annotations.items():
        hints[name] = Hint(value, why, declared=True)
    return hints


def _destructive(read_only: bool, consequential: bool) -> Hint:
    if read_only:
        return Hint(False, "It changes nothing.")
    if consequential:
        return Hint(
            True,
            "It removes or overwrites data; declared consequential, it acts only after the "
            "person confirms on the site.",
        )
    return Hint(
        False,
        "It adds or edits data and removes nothing (removing would be declared consequential "
        "and confirmed by the person).",
    )


def _idempotent(method: str, consequential: bool) -> Hint:
    if consequential:
        return Hint(False, "Each call asks the person for a new confirmation.")
    if method in IDEMPOTENT_METHODS:
        return Hint(
            True, f"A {method} call: repeating it with the same arguments changes nothing more."
        )
    if method == "POST":
        return Hint(False, "A POST call: each one adds something new.")
    return Hint(False, f"A {method} call: HTTP does not promise that repeating it changes nothing.")
