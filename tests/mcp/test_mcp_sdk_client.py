"""The official SDK's client, in legacy and 2026-07-28 mode, against gunicorn as production runs it.

Tokens are issued directly into the shared database; the browser OAuth journey through the
SDK's OAuthClientProvider needs the connector's resource metadata and registration.
"""

from __future__ import annotations

import anyio
import httpx2
import pytest
import requests
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from plugin.extensions import db
from plugin.todos.models import Todo
from tests.helpers import PASSWORD, csrf_token_from, make_oauth_client, make_token, make_user
from tests.mcp.mcp_helpers import confirm_form

MODES = ["legacy", "2026-07-28"]


@pytest.fixture
def served(app, serve):
    """gunicorn (two workers) with PLUGIN_BASE_URL set to where it listens, and a person with
    a client in the test's database."""
    server = serve(workers=2, base_url_is_own=True)
    return server, app, make_user(app), make_oauth_client(app)


async def _journey(url: str, token: str, mode: str) -> dict:
    seen: dict = {}
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(headers=headers, timeout=20) as http:
        async with Client(streamable_http_client(url, http_client=http), mode=mode) as client:
            listed = await client.list_tools()
            seen["tools"] = {tool.name: tool for tool in listed.tools}
            created = await client.call_tool("createTodo", {"title": "Call the plumber"})
            assert not created.is_error, created
            todo = created.structured_content
            found = await client.call_tool("listTodos", {"q": "plumber"})
            seen["found"] = [item["id"] for item in found.structured_content["items"]]
            updated = await client.call_tool("updateTodo", {"todo_id": todo["id"], "done": True})
            seen["done"] = updated.structured_content["done"]
            pending = await client.call_tool("deleteTodo", {"todo_id": todo["id"]})
            seen["pending"] = pending.structured_content
            seen["todo_id"] = todo["id"]
    return seen


async def _status(url: str, token: str, mode: str, action_id: str) -> str:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(headers=headers, timeout=20) as http:
        async with Client(streamable_http_client(url, http_client=http), mode=mode) as client:
            answer = await client.call_tool("getActionStatus", {"action_id": action_id})
            return answer.structured_content["status"]


def _confirm(confirm_url: str, base: str) -> None:
    """Sign in and press Confirm, as the person does in a browser."""
    browser = requests.Session()
    login = browser.get(base + "/login", timeout=10)
    browser.post(
        base + "/login",
        data={
            "email": "person@example.com",
            "password": PASSWORD,
            "csrf_token": csrf_token_from(login.text),
        },
        timeout=10,
    )
    page = browser.get(confirm_url, timeout=10)
    assert page.status_code == 200
    done = browser.post(
        confirm_url,
        data=confirm_form(page.text, csrf_token_from(page.text)),
        timeout=10,
    )
    assert done.status_code == 200


@pytest.mark.parametrize("mode", MODES)
def test_the_sdk_client_lists_creates_updates_and_deletes_with_confirmation(served, mode):
    server, app, person, client = served
    token = make_token(app, person, client, resource=server.url + "/mcp")["access_token"]
    url = server.url + "/mcp"
    seen = anyio.run(_journey, url, token, mode)
    assert {"createTodo", "listTodos", "deleteTodo", "getActionStatus"} <= set(seen["tools"])
    assert seen["tools"]["listTodos"].annotations.read_only_hint is True
    assert seen["tools"]["deleteTodo"].annotations.destructive_hint is True
    assert seen["found"] == [seen["todo_id"]] and seen["done"] is True
    pending = seen["pending"]
    assert pending["status"] == "pending_confirmation"
    with app.app_context():
        assert db.session.get(Todo, seen["todo_id"]) is not None
    _confirm(pending["confirm_url"], server.url)
    assert anyio.run(_status, url, token, mode, pending["action_id"]) == "confirmed"
    with app.app_context():
        assert db.session.get(Todo, seen["todo_id"]) is None


async def _create(url: str, token: str, mode: str) -> MCPError | None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(headers=headers, timeout=20) as http:
        async with Client(streamable_http_client(url, http_client=http), mode=mode) as client:
            try:
                await client.call_tool("createTodo", {"title": "Not allowed"})
            except MCPError as error:
                return error
    return None


@pytest.mark.parametrize("mode", MODES)
def test_a_read_only_token_is_refused_create_todo_with_the_scope_named(served, mode):
    server, app, person, client = served
    token = make_token(app, person, client, scope="todos:read", resource=server.url + "/mcp")[
        "access_token"
    ]
    # The SDK client reports the HTTP 403 as an error response; the challenge is checked below.
    assert isinstance(anyio.run(_create, server.url + "/mcp", token, mode), MCPError)
    answer = requests.post(
        server.url + "/mcp",
        json={
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "createTodo", "arguments": {"title": "x"}},
        },
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/json, text/event-stream",
        },
        timeout=10,
    )
    assert answer.status_code == 403
    assert 'scope="todos:write"' in answer.headers["WWW-Authenticate"]
    with app.app_context():
        assert db.session.query(Todo).count() == 0


def test_a_wrong_host_is_refused_and_no_worker_is_pinned_by_get(served):
    server, app, person, client = served
    token = make_token(app, person, client, resource=server.url + "/mcp")["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"}
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    wrong = requests.post(
        server.url + "/mcp", json=body, timeout=10, headers={**headers, "Host": "attacker.example"}
    )
    assert wrong.status_code == 421
    assert requests.get(server.url + "/mcp", headers=headers, timeout=5).status_code == 405
    chunked = requests.post(
        server.url + "/mcp",
        data=iter([b'{"jsonrpc": "2.0", ', b'"id": 1, "method": "tools/list"}']),
        headers={**headers, "Content-Type": "application/json"},
        timeout=10,
    )
    assert chunked.status_code == 200 and chunked.json()["result"]["tools"]
