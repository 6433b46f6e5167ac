"""Arguments generated from each tool's own inputSchema: never a 5xx, never an answer that breaks
the tool's outputSchema.

The keys come from the schema's properties and the values are any JSON, so well-typed and
mistyped arguments are both tried. (hypothesis-jsonschema 0.23 fails inside this Hypothesis.)
"""

from __future__ import annotations

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.mcp.mcp_helpers import Mcp


def test_generated_arguments_never_break_the_server(app, client, token):
    mcp = Mcp(client, token)
    mcp.call("createTodo", {"title": "Something to find"})
    app.config["RATELIMIT_ENABLED"] = False
    tools = mcp.tools()
    for name, tool in tools.items():
        if name != "deleteTodo":  # each call holds a pending action; the journey covers it
            _fuzz(mcp, name, tool)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=5,
)


def arguments_for(schema: dict) -> st.SearchStrategy[dict]:
    names = sorted(schema.get("properties", {})) or ["x"]
    return st.dictionaries(st.sampled_from(names) | st.text(max_size=5), JSON, max_size=6)


def _fuzz(mcp: Mcp, name: str, tool: dict) -> None:
    @settings(
        max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    @given(arguments=arguments_for(tool["inputSchema"]))
    def call(arguments: dict) -> None:
        answer = mcp.request("tools/call", {"name": name, "arguments": arguments})
        assert answer.status_code < 500, answer.get_data(as_text=True)
        result = answer.get_json().get("result")
        if result and not result["isError"] and tool.get("outputSchema"):
            jsonschema.validate(result["structuredContent"], tool["outputSchema"])

    call()
