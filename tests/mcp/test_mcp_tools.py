"""Every registered operation is a tool described by its declaration, and runs the view."""

from __future__ import annotations

import json

import jsonschema
import pytest

from plugin.api.openapi import operation_schemas
from plugin.api.operations import operations
from plugin.confirmations.models import PendingAction
from plugin.extensions import db
from plugin.mcp.tools import MAX_TITLE, tool_title
from plugin.todos.models import Todo
from tests.helpers import csrf_token_from, make_token
from tests.mcp.mcp_helpers import MODERN, Mcp, confirm_form, mcp_url, modern_meta


def test_every_operation_is_a_tool_described_by_its_declaration(app, mcp):
    tools = mcp.tools()
    registered = operations(app)
    assert sorted(tools) == sorted(r.operation.operation_id for r in registered)
    with app.test_request_context():
        for entry in registered:
            operation = entry.operation
            tool = tools[operation.operation_id]
            schemas = operation_schemas(app, operation.operation_id)
            assert tool["inputSchema"] == schemas.input
            assert tool.get("outputSchema") == schemas.output
            assert tool["title"] == tool_title(operation.summary, operation.operation_id)
            assert 0 < len(tool["title"]) <= MAX_TITLE
            assert operation.summary in tool["description"]
            hints = tool["annotations"]
            assert hints["readOnlyHint"] is (entry.method == "GET")
            if entry.method != "GET":
                assert hints["destructiveHint"] is operation.consequential
            if operation.consequential:
                # Each call opens a new confirmation: calling twice is not calling once.
                assert hints["idempotentHint"] is False
            scopes = [operation.scope] if operation.scope else []
            assert tool["_meta"]["securitySchemes"] == [{"type": "oauth2", "scopes": scopes}]


def _schemas_within(schema):
    yield schema
    for key in ("properties", "$defs"):
        for value in schema.get(key, {}).values():
            yield from _schemas_within(value)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from _schemas_within(schema[key])
    for key in ("allOf", "anyOf", "oneOf"):
        for value in schema.get(key, []):
            yield from _schemas_within(value)


def test_tool_schemas_are_portable_single_type_json_schema(mcp):
    """What the MCP Inspector's portability check asks: one ``type`` per schema (nullable as
    ``anyOf``), and no empty schema that constrains nothing."""
    nullable = 0
    for name, tool in mcp.tools().items():
        for key in ("inputSchema", "outputSchema"):
            for schema in _schemas_within(tool.get(key) or {}):
                assert not isinstance(schema.get("type"), list), (name, key, schema)
                assert schema != {}, (name, key)
                branches = schema.get("anyOf", [])
                nullable += {"type": "null"} in branches
                jsonschema.Draft202012Validator.check_schema(schema)
    assert nullable  # the sample has nullable fields (due_date), so the rule was exercised


def test_a_todo_goes_through_create_list_update_and_a_confirmed_delete(app, mcp, auth, user):
    tools = mcp.tools()
    created = mcp.call("createTodo", {"title": "Buy milk", "notes": "2 litres"})
    assert created["isError"] is False
    todo = created["structuredContent"]
    jsonschema.validate(todo, tools["createTodo"]["outputSchema"])
    assert "Buy milk" in created["content"][0]["text"]

    found = mcp.call("listTodos", {"q": "milk"})["structuredContent"]
    jsonschema.validate(found, tools["listTodos"]["outputSchema"])
    assert [item["id"] for item in found["items"]] == [todo["id"]]

    updated = mcp.call("updateTodo", {"todo_id": todo["id"], "done": True})["structuredContent"]
    assert updated["done"] is True

    pending = mcp.call("deleteTodo", {"todo_id": todo["id"]})
    answer = pending["structuredContent"]
    assert answer["status"] == "pending_confirmation"
    assert answer["confirm_url"] in pending["content"][0]["text"]
    with app.app_context():
        assert db.session.get(Todo, todo["id"]) is not None  # nothing happened yet

    auth.login()
    path = answer["confirm_url"].removeprefix("http://localhost")
    html = auth.client.get(path).get_data(as_text=True)
    auth.client.post(path, data=confirm_form(html, csrf_token_from(html)))
    with app.app_context():
        assert db.session.get(Todo, todo["id"]) is None
    status = mcp.call("getActionStatus", {"action_id": answer["action_id"]})
    assert status["structuredContent"]["status"] == "confirmed"


def test_invalid_arguments_come_back_as_fixable_tool_errors(mcp):
    answer = mcp.call("createTodo", {"title": "", "colour": "red"})
    assert answer["isError"] is True
    text = answer["content"][0]["text"]
    assert "title" in text and "colour" in text

    missing = mcp.call("getTodo", {})
    assert missing["isError"] is True and "todo_id" in missing["content"][0]["text"]
    for bad in ("x", -1, 2**40, True, 1.5, "1/../2"):
        answer = mcp.call("getTodo", {"todo_id": bad})
        assert answer["isError"] is True, bad


def test_someone_elses_todo_is_not_found(app, client, mcp, oauth_client):
    todo_id = mcp.call("createTodo", {"title": "Mine"})["structuredContent"]["id"]
    from tests.helpers import make_user

    other = make_user(app, "other@example.com")
    theirs_token = make_token(app, other, oauth_client, resource=mcp_url(app))["access_token"]
    theirs = Mcp(client, theirs_token, mcp.era)
    answer = theirs.call("getTodo", {"todo_id": todo_id})
    assert answer["isError"] is True
    assert "No todo with that id" in answer["content"][0]["text"]
    assert theirs.call("deleteTodo", {"todo_id": todo_id})["isError"] is True
    with app.app_context():
        assert db.session.query(PendingAction).count() == 0


def test_an_unknown_tool_is_a_protocol_error(mcp):
    answer = mcp.request("tools/call", {"name": "launchRocket", "arguments": {}})
    assert answer.get_json()["error"]["code"] == -32602


@pytest.mark.parametrize("scope", ["todos:read"])
def test_a_read_only_token_is_refused_write_tools_with_the_scope_named(
    app, client, user, oauth_client, era, scope
):
    reader_token = make_token(app, user, oauth_client, scope=scope, resource=mcp_url(app))
    reader = Mcp(client, reader_token["access_token"], era)
    assert reader.call("listTodos")["isError"] is False
    answer = reader.request("tools/call", {"name": "createTodo", "arguments": {"title": "x"}})
    assert answer.status_code == 403
    challenge = answer.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge and 'scope="todos:write"' in challenge
    assert "resource_metadata=" in challenge
    with app.app_context():
        assert db.session.query(Todo).count() == 0


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig"])
def test_a_body_in_another_encoding_needs_the_same_scope(
    app, client, user, oauth_client, era, encoding
):
    # json.loads (the SDK's 2026-07-28 reader) also reads UTF-16 and a byte-order mark.
    reader_token = make_token(app, user, oauth_client, scope="todos:read", resource=mcp_url(app))
    reader = Mcp(client, reader_token["access_token"], era)
    params = {"name": "createTodo", "arguments": {"title": "x"}}
    if era == MODERN:
        params["_meta"] = modern_meta()
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}
    raw = json.dumps(body).encode(encoding)
    answer = reader.post(None, reader.headers("tools/call", params), raw=raw)
    assert answer.status_code in (400, 403), answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Todo).count() == 0
