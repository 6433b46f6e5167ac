"""MCP Apps: an operation's UI declared once, described on its tool and served as a resource."""

from __future__ import annotations

import hashlib
import re

import pytest
from flask import Flask
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID

from plugin.api.operations import ApiBlueprint, OperationUi, api_operation, operations
from plugin.mcp import apps
from tests.helpers import make_token
from tests.mcp.mcp_helpers import LEGACY, MODERN, Mcp, mcp_url

UI = "todos/ui/list.html"
VENDORED = apps.VENDOR / "ext-apps-app.js"


def ui_operations(app: Flask) -> list[str]:
    return [r.operation.operation_id for r in operations(app) if r.operation.ui is not None]


def claude_domain(app: Flask) -> str:
    return hashlib.sha256(mcp_url(app).encode()).hexdigest()[:32] + ".claudemcpcontent.com"


def test_the_server_advertises_the_extension_and_resources(mcp, era):
    if era == MODERN:
        answer = mcp.result("server/discover")
        assert answer["capabilities"]["extensions"][EXTENSION_ID] == {"mimeTypes": [APP_MIME_TYPE]}
    else:
        answer = mcp.result(
            "initialize",
            {
                "protocolVersion": LEGACY,
                "capabilities": {"extensions": {EXTENSION_ID: {"mimeTypes": [APP_MIME_TYPE]}}},
                "clientInfo": {"name": "tests", "version": "1"},
            },
        )
        # The 2025-11-25 schema has no capabilities.extensions (the SDK leaves it out there):
        # hosts of that era find a UI from the tool's _meta.ui alone. Nor under "experimental",
        # where the spec names nothing and no host looks (plugin/mcp/apps.py).
        assert "extensions" not in answer["capabilities"]
        assert "experimental" not in answer["capabilities"]
    assert "resources" in answer["capabilities"]


def test_a_ui_operation_s_tool_points_at_its_resource_in_both_eras(app, mcp):
    tools = mcp.tools()
    with_ui = ui_operations(app)
    # The sample: the list, and the two calls whose answer the list shows again.
    assert {"listTodos", "createTodo", "updateTodo"} <= set(with_ui)
    uris = {tools[name]["_meta"]["ui"]["resourceUri"] for name in with_ui}
    assert len(uris) == 1
    (uri,) = uris
    assert re.fullmatch(rf"ui://app/[0-9a-f]{{12}}/{UI}", uri)
    for name, tool in tools.items():
        meta = tool["_meta"]
        if name in with_ui:
            assert meta["openai/outputTemplate"] == uri
        else:
            assert "resourceUri" not in meta.get("ui", {})
            assert "openai/outputTemplate" not in meta
        # Every tool stays callable from a UI (the default visibility is model and app).
        assert "visibility" not in meta.get("ui", {})
        assert meta["openai/widgetAccessible"] is True


def test_resources_list_and_read_serve_the_ui_in_both_eras(app, mcp):
    (listed,) = mcp.result("resources/list")["resources"]
    uri = mcp.tools()["listTodos"]["_meta"]["ui"]["resourceUri"]
    assert listed["uri"] == uri
    assert listed["mimeType"] == APP_MIME_TYPE
    (content,) = mcp.result("resources/read", {"uri": uri})["contents"]
    assert content["mimeType"] == APP_MIME_TYPE
    html = content["text"]
    assert listed["size"] == len(html.encode())
    for meta in (listed["_meta"], content["_meta"]):
        ui = meta["ui"]
        # Everything the UI needs is inside it: no domain is allowed anything.
        assert ui["csp"] == {
            "connectDomains": [],
            "resourceDomains": [],
            "frameDomains": [],
            "baseUriDomains": [],
        }
        assert ui["domain"] == claude_domain(app)
        assert ui["prefersBorder"] is True
        assert meta["openai/widgetCSP"] == {
            "connect_domains": [],
            "resource_domains": [],
            "frame_domains": [],
        }
        assert meta["openai/widgetDomain"] == "http://localhost"
    assert html.startswith("<!doctype html>")
    assert "globalThis.McpApps={" in html and "App:" in html
    # No outside request at run time: no remote script, style, image or font.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", html)


def test_the_ui_is_rendered_once_and_marked_cacheable(app, mcp, era, monkeypatch):
    calls = []
    render = apps.render
    monkeypatch.setattr(apps, "render", lambda *args: calls.append(args) or render(*args))
    uri = mcp.tools()["listTodos"]["_meta"]["ui"]["resourceUri"]
    first = mcp.result("resources/read", {"uri": uri})
    second = mcp.result("resources/read", {"uri": uri})
    assert first["contents"] == second["contents"]
    assert len(calls) == 1
    if era == MODERN:
        # No person's data inside: any client may keep it, for as long as its URI is served.
        assert first["cacheScope"] == "public"
        assert first["ttlMs"] == apps.READ_TTL_MS
        listed = mcp.result("resources/list")
        assert listed["cacheScope"] == "public"


def test_an_unknown_resource_is_a_protocol_error(mcp):
    uri = "ui://app/000000000000/todos/ui/nope.html"
    body = mcp.request("resources/read", {"uri": uri}).get_json()
    assert body["error"]["code"] == -32602
    assert "Unknown resource" in body["error"]["message"]
    assert body["error"]["data"] == {"uri": uri}


def test_resources_need_a_valid_token_but_no_scope(app, client, user, oauth_client, era):
    assert Mcp(client, None, era).request("resources/list").status_code == 401
    narrow = make_token(app, user, oauth_client, scope="todos:read", resource=mcp_url(app))
    assert Mcp(client, narrow["access_token"], era).result("resources/list")["resources"]


def test_a_client_without_the_extension_gets_the_same_tools_and_words(client, token, era):
    plain = Mcp(client, token, era)
    with_apps = Mcp(client, token, era)
    if era == MODERN:
        with_apps.capabilities = {
            "extensions": {EXTENSION_ID: {"mimeTypes": [APP_MIME_TYPE]}},
        }
    assert plain.tools() == with_apps.tools()
    plain.call("createTodo", {"title": "Water the plants"})
    answer = plain.call("listTodos")
    assert answer["isError"] is False
    # The words a model or a text-only client reads name the items.
    assert "Water the plants" in answer["content"][0]["text"]


def test_visibility_must_name_model_app_or_both():
    for wrong in ((), ("robot",)):
        with pytest.raises(ValueError, match="visibility"):
            api_operation("x", summary="x", scope=None, responses={200: None}, visibility=wrong)


def test_one_template_is_declared_one_way(app):
    other = ApiBlueprint("other_ui", __name__, url_prefix="/api")

    @other.get("/other")
    @api_operation(
        "otherList",
        summary="Another list.",
        scope="todos:read",
        responses={200: None},
        ui=OperationUi(UI, connect_domains=("https://api.example.com",)),
    )
    def other_list() -> dict:
        return {}

    app.register_blueprint(other)
    with app.test_request_context(), pytest.raises(ValueError, match="share it"):
        apps.ui_resources(app)


# ------------------------------------------------------------------ the vendored App class


def test_the_vendored_app_class_is_the_pinned_package_s(node_clients):
    package = node_clients / "@modelcontextprotocol" / "ext-apps"
    assert VENDORED.read_bytes() == (package / "dist/src/app-with-deps.js").read_bytes()
    assert (apps.VENDOR / "ext-apps-LICENSE").read_bytes() == (package / "LICENSE").read_bytes()
    version = (package / "package.json").read_text()
    assert f'"version": "{(apps.VENDOR / "ext-apps-VERSION").read_text().strip()}"' in version
