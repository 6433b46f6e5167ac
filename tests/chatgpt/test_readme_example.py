"""The README's "Extending with your own endpoint" example works as printed.

The app is built as the README says: the example's module is ``plugin.notes`` and its name is
added to ``EXTRA_FEATURES``. The suite's registry-driven tests then run against that app too,
so a feature added this way keeps them green.
"""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

import plugin
from plugin.api.operations import find_operation
from plugin.oauth.scopes import scopes
from tests.chatgpt.test_check_command import test_passes_in_process as check_passes
from tests.chatgpt.test_openapi_document import (
    test_every_registered_operation_is_described_for_chatgpt as openapi_describes_every_operation,
)
from tests.helpers import make_token
from tests.mcp.mcp_helpers import MODERN, Mcp, mcp_url
from tests.mcp.test_mcp_check import test_the_apps_own_tools_pass as mcp_check_passes
from tests.mcp.test_mcp_tools import (
    test_every_operation_is_a_tool_described_by_its_declaration as every_operation_is_a_tool,
)
from tests.test_control_characters import (
    test_every_string_field_of_an_api_input_is_line_or_text as inputs_are_line_or_text,
)

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def example_feature():
    code = re.search(r"```python\n(# plugin/notes/__init__\.py\n.*?)```", README.read_text(), re.S)
    assert code, "the README's extending example is missing"
    module = types.ModuleType("readme_notes")
    exec(compile(code.group(1), "README.md", "exec"), module.__dict__)  # noqa: S102
    return module


@pytest.fixture
def app_config(app_config, example_feature, monkeypatch):
    """Add the example as the README says, unless this project already did."""
    assert 'EXTRA_FEATURES = ("notes",)' in README.read_text()
    if "notes" not in plugin.EXTRA_FEATURES:
        monkeypatch.setitem(sys.modules, "plugin.notes", example_feature)
        monkeypatch.setattr(plugin, "EXTRA_FEATURES", (*plugin.EXTRA_FEATURES, "notes"))
    return app_config


def test_the_readme_endpoint_is_documented_and_protected(app, client, user, oauth_client):
    spec = client.get("/openapi.json").json
    operation = spec["paths"]["/api/greeting"]["get"]
    assert operation["operationId"] == "getGreeting"
    assert operation["security"] == [{"oauth2": ["notes:read"]}]
    assert "notes:read" in client.get("/.well-known/ai-plugin.json").json["auth"]["scope"]

    assert client.get("/api/greeting").status_code == 401
    todos_only = make_token(app, user, oauth_client)["access_token"]
    headers = {"Authorization": f"Bearer {todos_only}"}
    assert client.get("/api/greeting", headers=headers).status_code == 403
    granted = make_token(app, user, oauth_client, scope="notes:read")["access_token"]
    response = client.get("/api/greeting", headers={"Authorization": f"Bearer {granted}"})
    assert response.status_code == 200
    assert response.json == {"message": f"Hello, {user.email}!"}

    # The same declaration is an MCP tool, with nothing more written.
    for_mcp = make_token(app, user, oauth_client, scope="notes:read", resource=mcp_url(app))
    mcp = Mcp(client, for_mcp["access_token"])
    tools = mcp.tools()
    assert tools["getGreeting"]["annotations"]["readOnlyHint"] is True
    answer = mcp.call("getGreeting", {})
    assert answer["structuredContent"] == {"message": f"Hello, {user.email}!"}


def test_the_registry_driven_tests_stay_green_with_the_feature_added(
    app, client, runner, user, oauth_client
):
    openapi_describes_every_operation(app, client)
    inputs_are_line_or_text(app)
    token = make_token(app, user, oauth_client, resource=mcp_url(app))["access_token"]
    every_operation_is_a_tool(app, Mcp(client, token, MODERN))
    check_passes(runner)
    mcp_check_passes(runner)

    # The feature's scope is offered wherever the app's scopes are.
    registered = list(scopes(app))
    assert "notes:read" in registered
    assert client.get("/.well-known/ai-plugin.json").json["auth"]["scope"].split() == registered
    metadata = ("/.well-known/oauth-authorization-server", "/.well-known/oauth-protected-resource")
    for path in metadata:
        assert client.get(path).json["scopes_supported"] == registered
    assert find_operation("getGreeting", app) is not None


def test_a_feature_without_a_folder_is_one_clear_line(app_config, monkeypatch):
    monkeypatch.setattr(plugin, "EXTRA_FEATURES", ("nosuchfeature",))
    with pytest.raises(SystemExit) as stop:
        plugin.create_app(app_config)
    assert str(stop.value) == (
        "Configuration error: feature 'nosuchfeature' has no folder plugin/nosuchfeature/"
    )
