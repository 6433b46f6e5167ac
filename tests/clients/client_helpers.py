"""What the real-client tests share: the live server, a token-adding proxy, the Node tools.

The server is gunicorn behind a small reverse proxy that is its public origin
(``PLUGIN_BASE_URL``), as an operator's proxy would be; the proxy can add a bearer token to
requests that carry none, for clients that cannot send one (the conformance suite).
"""

from __future__ import annotations

import http.client
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.helpers import PASSWORD
from tests.production.servers import SECRET_KEY, Gunicorn, free_port

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


def sign_up_on_the_way(page: Any, authorize_url: str, email: str, returns_to: str) -> str:
    """Open the client's authorization URL, create an account there and allow the client;
    what the consent page said."""
    page.goto(authorize_url)
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    return allow(page, returns_to)


def log_in_on_the_way(page: Any, authorize_url: str, email: str, returns_to: str) -> str:
    """Open the client's authorization URL, log in there and allow the client; what the
    consent page said."""
    page.goto(authorize_url)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    return allow(page, returns_to)


def allow(page: Any, returns_to: str) -> str:
    """Press Allow on the consent page, wait for the client's callback page; what it said."""
    button = page.get_by_role("button", name="Allow", exact=True)
    button.wait_for()
    said = page.locator("main").inner_text()
    page.shots("consent")
    button.click()
    page.wait_for_url(lambda url: url.startswith(returns_to))
    return said
