"""The README's "Extending with your own endpoint" example works as printed."""

from __future__ import annotations

import re
import types
from pathlib import Path

import pytest

from plugin.api.operations import find_operation
from tests.helpers import make_token
from tests.mcp.conftest import mcp_url
from tests.mcp.mcp_helpers import Mcp

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def example_feature():
    code = re.search(r"```python\n(# plugin/notes/__init__\.py\n.*?)```", README.read_text(), re.S)
    assert code, "the README's extending example is missing"
    module = types.ModuleType("readme_notes")
    exec(compile(code.group(1), "README.md", "exec"), module.__dict__)  # noqa: S102
    return module


def test_the_readme_endpoint_is_documented_and_protected(
    app, client, user, oauth_client, example_feature
):
    # A project that already added the example as documented serves it; otherwise add it.
    if find_operation("getGreeting", app) is None:
        example_feature.init_app(app)
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
