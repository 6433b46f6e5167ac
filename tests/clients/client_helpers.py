"""What the real-client tests share: the live server, a token-adding proxy, the Node tools.

The server is gunicorn behind a small reverse proxy that is its public origin
(``PLUGIN_BASE_URL``), as an operator's proxy would be; the proxy can add a bearer token to
requests that carry none, for clients that cannot send one (the conformance suite).
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.helpers import PASSWORD
from tests.servers import SECRET_KEY, Gunicorn, free_port

CLIENTS = Path(__file__).resolve().parent
# Hop-by-hop headers (RFC 9110 §7.6.1) are the proxy's own business, not forwarded.
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade", "te", "trailer"}


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up mid-request (the conformance suite's probes do) is no error."""


class TokenProxy:
    """Forward 127.0.0.1:<port> to gunicorn, Host untouched; add ``token`` when set and the
    request has no Authorization header."""

    def __init__(self, target_port: int, port: int | None = None) -> None:
        self.token: str | None = None
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        proxy = self

        class Forward(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {
                    name: value
                    for name, value in self.headers.items()
                    if name.lower() not in HOP_BY_HOP
                }
                proxy.seen.append((self.command, self.path, dict(headers)))
                if proxy.token and "authorization" not in {name.lower() for name in headers}:
                    headers["Authorization"] = f"Bearer {proxy.token}"
                upstream = http.client.HTTPConnection("127.0.0.1", target_port, timeout=60)
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    answer = upstream.getresponse()
                    content = answer.read()
                finally:
                    upstream.close()
                self.send_response_only(answer.status, answer.reason)
                for name, value in answer.getheaders():
                    if name.lower() not in HOP_BY_HOP | {"content-length"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_DELETE = do_PUT = do_OPTIONS = do_HEAD = _forward

            def log_message(self, *args: Any) -> None:
                pass

        self.server = QuietServer(("127.0.0.1", port or 0), Forward)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def public_server(
    database_url: str, instance: Path, **settings: str
) -> Iterator[tuple[Gunicorn, TokenProxy]]:
    """gunicorn (one worker) whose public origin is a :class:`TokenProxy` in front of it."""
    port = free_port()
    env = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "PLUGIN_INSTANCE_PATH": str(instance),
        "PLUGIN_BASE_URL": f"http://127.0.0.1:{port}",
        "LOGIN_RATE_LIMIT": "1000 per minute",
        "LOGIN_ACCOUNT_RATE_LIMIT": "1000 per minute",
        "SIGNUP_RATE_LIMIT": "1000 per minute",
        "REGISTRATION_RATE_LIMIT": "1000 per minute",
        **settings,
    }
    server = Gunicorn(env)
    proxy = TokenProxy(server.port, port)
    try:
        yield server, proxy
    finally:
        proxy.stop()
        errors = server.stop()
        assert "Traceback" not in errors, errors


class BrowserInbox:
    """``$BROWSER`` for clients that open a URL (xdg-open, Python's webbrowser): a script
    that appends the URL to a file, read here, so the test can drive Chromium there."""

    def __init__(self, folder: Path) -> None:
        self.file = folder / "opened-urls.txt"
        self.script = folder / "browser.sh"
        self.script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> "{self.file}"\n')
        self.script.chmod(0o755)
        self.taken = 0

    @property
    def env(self) -> dict[str, str]:
        # No desktop here: xdg-open falls back to $BROWSER only when it detects none.
        return {"BROWSER": str(self.script), "DISPLAY": "", "XDG_CURRENT_DESKTOP": ""}

    def next_url(self, process: subprocess.Popen | None = None, timeout: float = 30) -> str:
        """The next URL the client opened (failing early if ``process`` exits first)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            opened = self.file.read_text().split() if self.file.exists() else []
            if len(opened) > self.taken:
                self.taken += 1
                return opened[self.taken - 1]
            if process is not None and process.poll() is not None:
                raise AssertionError(f"the client exited ({process.returncode}) opening nothing")
            time.sleep(0.1)
        raise AssertionError(f"the client opened no URL within {timeout}s")


def node(node_clients: Path, script: str, *args: str, **kwargs: Any) -> subprocess.CompletedProcess:
    """Run ``script`` (a path under node_modules) with the pinned Node 22."""
    env = {**os.environ, "NO_COLOR": "1", **kwargs.pop("env", {})}
    return subprocess.run(
        [str(node_clients / ".bin" / "node"), str(node_clients / script), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=kwargs.pop("timeout", 120),
        **kwargs,
    )


def sign_up_on_the_way(page: Any, authorize_url: str, email: str) -> str:
    """Open the client's authorization URL, create an account there and allow the client;
    what the consent page said."""
    page.goto(authorize_url)
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    return allow(page, authorize_url)


def log_in_on_the_way(page: Any, authorize_url: str, email: str) -> str:
    """Open the client's authorization URL, log in there and allow the client; what the
    consent page said."""
    page.goto(authorize_url)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    return allow(page, authorize_url)


def allow(page: Any, authorize_url: str) -> str:
    """Press Allow on the consent page and wait for the browser to reach the client's
    callback (the ``redirect_uri`` of ``authorize_url``); what the consent page said."""
    (returns_to,) = parse_qs(urlsplit(authorize_url).query)["redirect_uri"]
    button = page.get_by_role("button", name="Allow", exact=True)
    button.wait_for()
    said = page.locator("main").inner_text()
    page.shots("consent")
    button.click()
    page.wait_for_url(lambda url: url.startswith(returns_to + "?"))
    return said


class StdioClient:
    """Talk MCP (newline-delimited JSON-RPC) to a local process, as a desktop app does to
    mcp-remote; what the process logs goes to ``log_file``."""

    def __init__(self, command: list[str], env: dict[str, str], log_file: Path) -> None:
        self.log_file = log_file
        self.log = log_file.open("a")
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env=env,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.next_id = 0

    def _read(self) -> None:
        assert self.process.stdout is not None
        try:
            for line in self.process.stdout:
                self.lines.put(line)
        except (ValueError, OSError):
            pass  # ``stop`` closed the pipe under the loop: nothing more to read anyway

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def ask(self, method: str, params: dict[str, Any] | None = None) -> int:
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params or {}})
        return self.next_id

    def answer(self, request_id: int, timeout: float = 60) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                message = json.loads(self.lines.get(timeout=0.5))
            except queue.Empty:
                if self.process.poll() is not None:
                    raise AssertionError(self.log_file.read_text()[-3000:]) from None
                continue
            if message.get("id") == request_id:
                assert "error" not in message, message
                return message["result"]
        raise AssertionError(f"no answer within {timeout}s: " + self.log_file.read_text()[-3000:])

    def request(self, method: str, params: dict[str, Any] | None = None) -> Any:
        return self.answer(self.ask(method, params))

    def initialize(self) -> int:
        """Send initialize; the caller reads the answer (a sign-in may come first)."""
        return self.ask(
            "initialize",
            {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "Desk App", "version": "1.0"},
            },
        )

    def initialized(self, request_id: int) -> Any:
        result = self.answer(request_id)
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return result

    def call(self, name: str, **arguments: Any) -> Any:
        result = self.request("tools/call", {"name": name, "arguments": arguments})
        assert not result.get("isError"), result
        return result["structuredContent"]

    def close(self) -> None:
        """Close stdin, as a desktop app quitting does; the process must exit by itself."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError("it did not exit when its stdin closed") from None
        finally:
            self.stop()

    def stop(self) -> None:
        """Kill the process if it still runs (a test that failed half-way) and let go."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.log):
            if stream is not None and not stream.closed:
                stream.close()
