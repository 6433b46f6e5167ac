"""``flask check`` lints the MCP side: tool limits, annotations and the metadata chain."""

from __future__ import annotations

from plugin.mcp.check import check_metadata, check_tools

GOOD = {
    "name": "listThings",
    "title": "List things",
    "description": "Lists things.",
    "inputSchema": {"type": "object", "properties": {}},
    "annotations": {
        "readOnlyHint": True,
        "destructiveHint": False,
        "idempotentHint": True,
        "openWorldHint": False,
    },
}


def test_the_apps_own_tools_pass(runner):
    result = runner.invoke(args=["check"])
    assert "mcp.tools" not in result.output, result.output
    assert "error: mcp." not in result.output and "warning: mcp." not in result.output


def test_bad_tools_are_named():
    assert check_tools([GOOD]) == []
    bad = [
        GOOD | {"name": "has space"},
        GOOD | {"name": "long", "title": "x" * 65},
        GOOD | {"name": "noHints", "annotations": {}},
        GOOD | {"name": "badSchema", "inputSchema": {"type": "array"}},
    ]
    messages = [str(finding) for finding in check_tools(bad)]
    assert len(messages) == 4
    assert "annotations lack readOnlyHint" in " ".join(messages)


def test_the_metadata_chain_must_agree():
    resource = {
        "resource": "https://todo.example.com/mcp",
        "authorization_servers": ["https://todo.example.com"],
    }
    server = {"issuer": "https://todo.example.com"}
    assert check_metadata("https://todo.example.com/mcp", resource, server) == []
    wrong = check_metadata("https://todo.example.com/mcp", resource | {"resource": "x"}, {})
    assert {finding.where for finding in wrong} == {
        "mcp.resource_metadata.resource",
        "mcp.authorization_server.issuer",
    }
