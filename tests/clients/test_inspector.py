"""The MCP Inspector's CLI (what developers debug servers with) against ``/mcp``.

With a bearer token: tools/list with its schema portability check in full (``--strict``), a
call in each protocol era, and ``--app-info`` on the todo list's UI. Without one: its own
OAuth (registration, the browser through ``$BROWSER``, consent, the code at its loopback
listener), then a call with the token it stored.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from plugin.api.operations import operations
from tests.clients.client_helpers import BrowserInbox, log_in_on_the_way, sign_up_on_the_way
from tests.live_fixtures import Shots
from tests.servers import free_port

INSPECTOR = ".bin/mcp-inspector"


def inspector_command(node_clients: Path, url: str, *args: str) -> list[str]:
    return [
        str(node_clients / ".bin" / "node"),
        str(node_clients / INSPECTOR),
        "--cli",
        url,
        "--transport",
        "http",
        *args,
    ]


def inspector_env(home: Path, **extra: str) -> dict[str, str]:
    # Its stores (catalog, OAuth state, secrets) live under HOME; a file store keeps the
    # tokens between runs (there is no keychain here).
    return {
        **os.environ,
        "HOME": str(home),
        "NO_COLOR": "1",
        "MCP_INSPECTOR_SECRET_STORE": "file",
        **extra,
    }


@pytest.fixture
def inspect(node_clients, proxy, mcp_token, tmp_path):
    """Run the Inspector with the token; its JSON output (one object, or one per line)."""

    def run(*args: str, lines: bool = False) -> Any:
        answer = subprocess.run(
            inspector_command(
                node_clients,
                proxy.url + "/mcp",
                "--header",
                f"Authorization: Bearer {mcp_token}",
                *args,
            ),
            capture_output=True,
            text=True,
            env=inspector_env(tmp_path),
            timeout=60,
        )
        assert answer.returncode == 0, answer.stdout + answer.stderr
        run.stderr = answer.stderr
        if lines:
            return [json.loads(line) for line in answer.stdout.splitlines()]
        return json.loads(answer.stdout)

    return run


def test_tools_list_is_portable(inspect, app):
    listed = inspect("--method", "tools/list", "--format", "json", "--strict")
    names = {tool["name"] for tool in listed["result"]["tools"]}
    assert names == {entry.operation.operation_id for entry in operations(app)}
    # --strict prints each portability finding in full; there must be none.
    assert "Warning" not in inspect.stderr and "Issue:" not in inspect.stderr, inspect.stderr


def test_a_call_in_each_protocol_era(inspect):
    created = inspect(
        "--method",
        "tools/call",
        "--tool-name",
        "createTodo",
        "--tool-arg",
        "title=Found by the Inspector",
        "--format",
        "json",
    )["result"]
    assert created["isError"] is False
    assert created["structuredContent"]["title"] == "Found by the Inspector"
    assert "_meta" not in created  # the legacy era (initialize first) has no per-result _meta
    found = inspect(
        "--protocol-era",
        "modern",
        "--method",
        "tools/call",
        "--tool-name",
        "listTodos",
        "--tool-arg",
        "q=Inspector",
        "--format",
        "json",
    )["result"]
    # 2026-07-28: every result says which server answered.
    assert found["_meta"]["io.modelcontextprotocol/serverInfo"]["name"]
    assert [item["id"] for item in found["structuredContent"]["items"]] == [
        created["structuredContent"]["id"]
    ]


def test_app_info_reports_the_todo_list_ui(inspect, app, proxy):
    (resource,) = inspect("--method", "resources/list", "--format", "json")["result"]["resources"]
    claude_domain = hashlib.sha256((proxy.url + "/mcp").encode()).hexdigest()[:32]
    ui = {
        "hasApp": True,
        "resourceUri": resource["uri"],
        "resourceMimeType": "text/html;profile=mcp-app",
        "csp": {
            "connectDomains": [],
            "resourceDomains": [],
            "frameDomains": [],
            "baseUriDomains": [],
        },
        "domain": f"{claude_domain}.claudemcpcontent.com",
        "prefersBorder": True,
    }
    one = inspect("--method", "tools/call", "--tool-name", "listTodos", "--app-info")
    assert one == ui | {"toolName": "listTodos"}
    # Every tool, as a host that advertises the extension sees them, in the modern era.
    every = inspect(
        "--method",
        "tools/list",
        "--app-info",
        "--advertise-apps",
        "--protocol-era",
        "modern",
        lines=True,
    )
    with_ui = {entry.operation.operation_id for entry in operations(app) if entry.operation.ui}
    assert "listTodos" in with_ui
    for line in every:
        if line["toolName"] in with_ui:
            assert line == ui | {"toolName": line["toolName"]}
        else:
            assert line == {"hasApp": False, "toolName": line["toolName"]}
    assert {line["toolName"] for line in every} == {
        e.operation.operation_id for e in operations(app)
    }


def test_its_own_oauth_in_the_browser(node_clients, proxy, page, browser, tmp_path):
    inbox = BrowserInbox(tmp_path)
    callback = f"http://127.0.0.1:{free_port()}/oauth/callback"
    env = inspector_env(tmp_path, MCP_AUTO_OPEN_ENABLED="true", **inbox.env)
    mcp = proxy.url + "/mcp"
    first = subprocess.Popen(
        inspector_command(
            node_clients,
            mcp,
            "--callback-url",
            callback,
            "--method",
            "tools/call",
            "--tool-name",
            "createTodo",
            "--tool-arg",
            "title=Allowed in the browser",
            "--format",
            "json",
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        authorize = inbox.next_url(first)
        said = sign_up_on_the_way(page, authorize, "inspector@example.com")
        out, err = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, out + err
    assert "MCP Inspector" in said  # the name it registered with, on the consent page
    assert json.loads(out)["result"]["structuredContent"]["title"] == "Allowed in the browser"
    assert authorize.startswith(proxy.url + "/oauth/authorize?")
    assert "resource=" in authorize and "code_challenge_method=S256" in authorize

    # A second run uses the stored token and never opens the browser.
    again = subprocess.run(
        inspector_command(
            node_clients,
            mcp,
            "--stored-auth-only",
            "--method",
            "tools/call",
            "--tool-name",
            "listTodos",
            "--format",
            "json",
        ),
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    items = json.loads(again.stdout)["result"]["structuredContent"]["items"]
    assert [item["title"] for item in items] == ["Allowed in the browser"]
    assert inbox.taken == 1 and not inbox.file.read_text().split()[1:]

    # --relogin: it revokes its grant (RFC 7009) and signs in again; the person, in a
    # browser without a session, logs in and is asked again (a loopback client always is).
    context = browser.new_context()
    third = subprocess.Popen(
        inspector_command(
            node_clients,
            mcp,
            "--relogin",
            "--callback-url",
            callback,
            "--method",
            "tools/call",
            "--tool-name",
            "listTodos",
            "--format",
            "json",
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        fresh = context.new_page()
        fresh.set_default_timeout(10_000)
        fresh.shots = Shots(fresh, page.shots.folder.name + "-returning")
        said = log_in_on_the_way(fresh, inbox.next_url(third), "inspector@example.com")
        out, err = third.communicate(timeout=60)
    finally:
        context.close()
        if third.poll() is None:
            third.kill()
            third.wait()
    assert third.returncode == 0, out + err
    assert "You allowed MCP Inspector before" in said
    items = json.loads(out)["result"]["structuredContent"]["items"]
    assert [item["title"] for item in items] == ["Allowed in the browser"]
