"""A host for MCP Apps UIs, shaped like ChatGPT's and Claude's, for the browser tests.

Two loopback origins, as in the real hosts: the host page on ``http://127.0.0.1:<port>`` and
the UI's sandbox on ``http://localhost:<other port>``. The host page runs the official
``AppBridge`` and MCP ``Client`` from ``@modelcontextprotocol/ext-apps`` and
``@modelcontextprotocol/client`` (tests/clients/node_modules, served here under an import
map). Its client talks to ``/mcp`` on the host origin, which this server forwards to the real
server with the person's bearer token, as a host's backend does: the token never reaches the
page. The page reads the tool's ``ui://`` resource through that client and hands the HTML to
the sandbox origin, which serves it in a sandboxed iframe with a Content-Security-Policy built
from the resource's ``_meta.ui.csp`` the way the MCP Apps specification describes.
"""

from __future__ import annotations

import json
import mimetypes
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

IMPORTS = {
    "@modelcontextprotocol/ext-apps/app-bridge": (
        "@modelcontextprotocol/ext-apps/dist/src/app-bridge.js"
    ),
    "@modelcontextprotocol/client": "@modelcontextprotocol/client/dist/index.mjs",
    "@modelcontextprotocol/client/_shims": "@modelcontextprotocol/client/dist/shimsBrowser.mjs",
    "@modelcontextprotocol/core": "@modelcontextprotocol/core/dist/index.mjs",
    "@modelcontextprotocol/core/internal": "@modelcontextprotocol/core/dist/internal.mjs",
    "zod/v4": "zod/v4/index.js",
    "eventsource": "eventsource/dist/index.js",
    "eventsource-parser": "eventsource-parser/dist/index.js",
    "eventsource-parser/stream": "eventsource-parser/dist/stream.js",
    "pkce-challenge": "pkce-challenge/dist/index.browser.js",
    "jose": "jose/dist/webapi/index.js",
}

HOST_PAGE = """<!doctype html>
<html lang="en" data-theme="__THEME__">
<head>
<meta charset="utf-8">
<title>MCP Apps test host</title>
<script type="importmap">__IMPORT_MAP__</script>
<style>
  body { font-family: system-ui, sans-serif; margin: 16px; }
  body { background: __PAGE_BG__; color: __PAGE_FG__; }
  iframe { display: block; width: __WIDTH__px; max-width: 100%; }
  iframe { border: 1px solid #8886; border-radius: 12px; }
</style>
</head>
<body>
<p>Assistant: here is your todo list.</p>
<div id="slot"></div>
<script type="module">
import { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";

const config = __CONFIG__;
window.host = { openedLinks: [], sizes: [], errors: [], ready: false };
try {
  const client = new Client({ name: "apps-test-host", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL("/mcp", location.href)));
  const { tools } = await client.listTools();
  window.host.tools = tools;
  const tool = tools.find((each) => each.name === config.tool);
  const uri = tool._meta.ui.resourceUri;
  const { contents } = await client.readResource({ uri });
  window.host.resource = { uri, mimeType: contents[0].mimeType, meta: contents[0]._meta };
  // The host's backend serves the UI on its sandbox origin, with the CSP the resource asks for.
  const csp = contents[0]._meta?.ui?.csp || {};
  const sandbox = JSON.stringify({ html: contents[0].text, csp });
  await fetch("/sandbox", { method: "POST", body: sandbox });

  const iframe = document.createElement("iframe");
  iframe.title = "Todo list";
  iframe.setAttribute("sandbox", "allow-scripts allow-same-origin allow-forms");
  document.getElementById("slot").append(iframe);
  const bridge = new AppBridge(
    client,
    { name: "apps-test-host", version: "1.0.0" },
    { openLinks: {}, serverTools: {}, serverResources: {}, logging: {} },
    { hostContext: config.context },
  );
  window.host.bridge = bridge;
  bridge.onopenlink = async ({ url }) => { window.host.openedLinks.push(url); return {}; };
  bridge.onsizechange = ({ height }) => {
    window.host.sizes.push(height);
    if (height) iframe.style.height = `${height}px`;
  };
  bridge.oninitialized = async () => {
    await bridge.sendToolInput({ arguments: config.arguments });
    const result = await client.callTool({ name: config.tool, arguments: config.arguments });
    await bridge.sendToolResult(result);
    window.host.ready = true;
  };
  // Listen before the UI loads: it says ui/initialize as soon as its script runs.
  await bridge.connect(new PostMessageTransport(iframe.contentWindow, iframe.contentWindow));
  iframe.src = config.sandbox + "/ui";
  window.host.setTheme = (theme) => bridge.sendHostContextChange({ theme });
} catch (error) {
  window.host.errors.push(String(error && error.stack || error));
}
</script>
</body>
</html>
"""

DARK_VARIABLES = {
    "--color-background-primary": "#212121",
    "--color-text-primary": "#ececec",
    "--color-background-secondary": "#2f2f2f",
}


def sandbox_csp(csp: dict[str, list[str]]) -> str:
    """The policy a host puts on the UI's document, from ``_meta.ui.csp`` (MCP Apps spec)."""

    def sources(key: str, none: str = "'none'") -> str:
        return " ".join(csp.get(key) or []) or none

    resources = " ".join(csp.get("resourceDomains") or [])
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src 'self' 'unsafe-inline' {resources}".strip(),
            f"style-src 'self' 'unsafe-inline' {resources}".strip(),
            f"img-src 'self' data: {resources}".strip(),
            f"font-src 'self' {resources}".strip(),
            f"media-src 'self' data: {resources}".strip(),
            f"connect-src {sources('connectDomains')}",
            f"frame-src {sources('frameDomains')}",
            "base-uri " + sources("baseUriDomains", "'self'"),
        ]
    )


class AppsHost:
    """Both origins, on free ports; ``url(...)`` is the host page."""

    def __init__(self, node_modules: Path, mcp_url: str, token: str) -> None:
        self.node_modules = node_modules
        self.mcp_url = mcp_url
        self.token = token
        self.sandbox: dict[str, Any] = {}
        self.forwarded: list[dict[str, Any]] = []
        self.host = ThreadingHTTPServer(("127.0.0.1", 0), self._host_handler())
        self.ui = ThreadingHTTPServer(("127.0.0.1", 0), self._sandbox_handler())
        self.sandbox_origin = f"http://localhost:{self.ui.server_address[1]}"
        self.origin = f"http://127.0.0.1:{self.host.server_address[1]}"
        for server in (self.host, self.ui):
            threading.Thread(target=server.serve_forever, daemon=True).start()

    def url(
        self,
        *,
        tool: str = "listTodos",
        arguments: dict[str, Any] | None = None,
        theme: str = "light",
        width: int = 640,
        locale: str = "en-GB",
    ) -> str:
        context = {
            "theme": theme,
            "locale": locale,
            "displayMode": "inline",
            "platform": "web",
            "containerDimensions": {"maxWidth": width},
            "styles": {"variables": DARK_VARIABLES if theme == "dark" else {}},
        }
        self.page = (
            HOST_PAGE.replace("__THEME__", theme)
            .replace("__PAGE_BG__", "#171717" if theme == "dark" else "#ffffff")
            .replace("__PAGE_FG__", "#ececec" if theme == "dark" else "#111111")
            .replace("__WIDTH__", str(width))
            .replace(
                "__IMPORT_MAP__",
                json.dumps(
                    {"imports": {name: f"/node_modules/{path}" for name, path in IMPORTS.items()}}
                ),
            )
            .replace(
                "__CONFIG__",
                json.dumps(
                    {
                        "tool": tool,
                        "arguments": arguments or {},
                        "context": context,
                        "sandbox": self.sandbox_origin,
                    }
                ),
            )
        )
        return self.origin + "/"

    def stop(self) -> None:
        for server in (self.host, self.ui):
            server.shutdown()
            server.server_close()

    def _host_handler(self) -> type[BaseHTTPRequestHandler]:
        host = self

        class Handler(_Quiet):
            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                if path == "/":
                    self.answer(200, host.page.encode(), "text/html; charset=utf-8")
                elif path.startswith("/node_modules/"):
                    self.file(host.node_modules, path.removeprefix("/node_modules/"))
                else:
                    # The MCP client's optional event stream: the server offers none either.
                    self.answer(405, b"", "text/plain")

            def do_DELETE(self) -> None:
                self.answer(405, b"", "text/plain")

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = urlsplit(self.path).path
                if path == "/sandbox":
                    host.sandbox = json.loads(body)
                    self.answer(204, b"", "text/plain")
                    return
                if path != "/mcp":
                    self.answer(404, b"", "text/plain")
                    return
                # What a host's backend sends: the person's token, no browser Origin.
                headers = {
                    key: value
                    for key, value in self.headers.items()
                    if key.lower() in ("content-type", "accept") or key.lower().startswith("mcp-")
                }
                headers["Authorization"] = f"Bearer {host.token}"
                host.forwarded.append(json.loads(body) if body else {})
                answer = requests.post(host.mcp_url, data=body, headers=headers, timeout=30)
                kept = {
                    key: value
                    for key, value in answer.headers.items()
                    if key.lower() in ("content-type",) or key.lower().startswith("mcp-")
                }
                self.answer(answer.status_code, answer.content, None, kept)

        return Handler

    def _sandbox_handler(self) -> type[BaseHTTPRequestHandler]:
        host = self

        class Handler(_Quiet):
            def do_GET(self) -> None:
                if urlsplit(self.path).path != "/ui" or not host.sandbox:
                    self.answer(404, b"", "text/plain")
                    return
                csp = sandbox_csp(host.sandbox.get("csp") or {})
                self.answer(
                    200,
                    host.sandbox["html"].encode(),
                    "text/html; charset=utf-8",
                    {"Content-Security-Policy": csp},
                )

        return Handler


class _Quiet(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return

    def answer(
        self,
        status: int,
        body: bytes,
        content_type: str | None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def file(self, root: Path, relative: str) -> None:
        path = (root / relative).resolve()
        if not path.is_file() or root.resolve() not in path.parents:
            self.answer(404, b"", "text/plain")
            return
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if path.suffix in (".js", ".mjs"):
            content_type = "text/javascript"
        self.answer(200, path.read_bytes(), content_type)
