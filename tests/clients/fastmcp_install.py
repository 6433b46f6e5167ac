"""Install with fastmcp's client and OAuth, as its users write it; run in fastmcp's virtualenv.

``python fastmcp_install.py MCP_URL CALLBACK_PORT WAIT TITLE`` signs in (the browser through
``$BROWSER``), lists the tools, creates a todo titled TITLE (unless empty), waits WAIT seconds
(the access token expires: the client refreshes), lists the todos, and prints one JSON object.
"""

import asyncio
import json
import sys

from fastmcp import Client
from fastmcp.client.auth import OAuth


async def install(url: str, port: int, wait: float, title: str) -> dict:
    async with Client(url, auth=OAuth(callback_port=port)) as client:
        tools = await client.list_tools()
        created = None
        if title:
            created = (await client.call_tool("createTodo", {"title": title})).structured_content
        await asyncio.sleep(wait)
        listed = await client.call_tool("listTodos", {})
        return {
            "tools": sorted(tool.name for tool in tools),
            "created": created,
            "titles": [item["title"] for item in listed.structured_content["items"]],
        }


if __name__ == "__main__":
    url, port, wait, title = sys.argv[1:5]
    print(json.dumps(asyncio.run(install(url, int(port), float(wait), title))))
