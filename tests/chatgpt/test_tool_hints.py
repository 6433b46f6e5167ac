"""Tool annotations derived from each declaration, each with its reason; overridable."""

from __future__ import annotations

import pytest
from flask import Flask

from plugin.api.hints import HINT_NAMES, tool_hints
from plugin.api.operations import (
    ApiBlueprint,
    ExamplePrompts,
    api_operation,
    example_prompts,
    find_operation,
    operations,
)
from tests.helpers import make_token
from tests.mcp.mcp_helpers import Mcp, mcp_url


def test_every_operation_has_four_hints_each_with_a_one_line_reason(app):
    for registered in operations(app):
        hints = tool_hints(registered)
        assert tuple(hints) == HINT_NAMES
        for name, hint in hints.items():
            assert isinstance(hint.value, bool)
            assert hint.why.strip() and "\n" not in hint.why, (registered.operation, name)


def test_the_derivation_follows_method_and_consequential(app):
    by_id = {r.operation.operation_id: tool_hints(r) for r in operations(app)}
    values = {op: {name: hint.value for name, hint in hints.items()} for op, hints in by_id.items()}
    assert values["listTodos"] == dict.fromkeys(HINT_NAMES, False) | {
        "readOnlyHint": True,
        "idempotentHint": True,
    }
    assert values["createTodo"] == dict.fromkeys(HINT_NAMES, False)
    assert values["deleteTodo"]["destructiveHint"] is True
    assert values["deleteTodo"]["idempotentHint"] is False
    assert "confirms" in by_id["deleteTodo"]["destructiveHint"].why


def calendar_blueprint() -> ApiBlueprint:
    bp = ApiBlueprint("calendar_api", __name__, url_prefix="/api/cal")

    @bp.post("/events")
    @api_operation(
        "addCalendarEvent",
        summary="Add an event to the person's calendar.",
        scope=None,
        responses={204: None},
        annotations={"openWorldHint": (True, "It writes to the person's Google Calendar.")},
    )
    def add_event() -> tuple[None, int]:
        return None, 204

    return bp


def test_an_operation_overrides_a_hint_with_its_reason_and_tools_list_follows(
    app, client, user, oauth_client
):
    app.register_blueprint(calendar_blueprint())
    registered = find_operation("addCalendarEvent", app)
    hint = tool_hints(registered)["openWorldHint"]
    assert (hint.value, hint.why, hint.declared) == (
        True,
        "It writes to the person's Google Calendar.",
        True,
    )
    # The derived ones stay.
    assert tool_hints(registered)["readOnlyHint"].value is False
    token = make_token(app, user, oauth_client, resource=mcp_url(app))["access_token"]
    tools = Mcp(client, token).tools()
    assert tools["addCalendarEvent"]["annotations"]["openWorldHint"] is True
    assert tools["listTodos"]["annotations"]["openWorldHint"] is False


def test_an_unknown_annotation_is_refused_at_declaration():
    with pytest.raises(ValueError, match="unknown annotations"):
        api_operation(
            "x", summary="x", scope=None, responses={}, annotations={"fastHint": (True, "")}
        )


def test_example_prompts_are_declared_beside_the_operations(app):
    prompts = example_prompts(app)
    assert len(prompts.should_use) >= 5 and len(prompts.should_not_use) >= 3
    other = Flask("other")
    assert example_prompts(other) == ExamplePrompts()
    other.register_blueprint(
        ApiBlueprint("a", __name__, example_prompts=ExamplePrompts(("one",), ("no",)))
    )
    other.register_blueprint(ApiBlueprint("b", __name__, example_prompts=ExamplePrompts(("two",))))
    assert example_prompts(other) == ExamplePrompts(("one", "two"), ("no",))
