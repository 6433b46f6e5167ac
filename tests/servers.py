"""Real servers for the tests: gunicorn processes (one-off or shared), a private Redis, a TCP proxy.

Everything here is started on free loopback ports and stopped by its fixture. The machine's
PostgreSQL and Redis are only ever connected to, never stopped.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
import redis
import requests

from tests.helpers import csrf_token_from

ROOT = Path(__file__).resolve().parents[1]
SECRET_KEY = secrets.token_urlsafe(48)
POSTGRES_PORT = 5432


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing is listening on 127.0.0.1:{port} after {timeout}s")


def clean_env(**settings: str) -> dict[str, str]:
    """The environment for a child process: no stray app settings from the caller."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "FLASK_DEBUG", "FLASK_APP")
        and not key.startswith(("GUNICORN_", "PLUGIN_"))
    }
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(settings)
    return env


class Gunicorn:
    """`gunicorn wsgi:app` with the repository's gunicorn.conf.py, as an operator runs it."""

    def __init__(self, env: dict[str, str], workers: int = 1, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.settings = env
        env = clean_env(
            PORT=str(self.port),
            WEB_CONCURRENCY=str(workers),
            GUNICORN_GRACEFUL_TIMEOUT="2",
            **env,
        )
        # A file, not a pipe: nobody reads a pipe while the test runs, and a full pipe
        # would block every worker that logs.
        self.log = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            start_new_session=True,
        )
        try:
            wait_for_port(self.port)
            self.wait_until_serving()
        except AssertionError:
            self.stop()
            raise

    def wait_until_serving(self, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise AssertionError(f"gunicorn on {self.url} never answered /healthz with 200")

    def log_size(self) -> int:
        """Where the server's stderr ends now: pass it to ``log_since``."""
        self.log.seek(0, os.SEEK_END)
        return self.log.tell()

    def log_since(self, offset: int) -> str:
        """What the server wrote to stderr after ``offset``."""
        self.log.seek(offset)
        return self.log.read()

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def stop(self) -> str:
        """Stop gunicorn (SIGTERM, then SIGKILL) and return what it wrote to stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        if self.log.closed:
            return ""
        self.log.seek(0)
        output = self.log.read()
        self.log.close()
        return output


class ServerPool:
    """Gunicorn servers shared by one session's tests, one per database and settings.

    Starting gunicorn (and stopping it) takes seconds, most of a browser test's time, while
    almost every such test only needs *a* server on its database: the tables are emptied after
    each test (the ``app`` fixture) and ``reset`` clears the rate limits, which live in the
    machine's Redis under the server's own key prefix. Tests that stop, kill or restart a
    server, or read its whole log, start their own.
    """

    def __init__(self, folder: Path, most: int = 16) -> None:
        self.folder = folder
        self.most = most
        self.redis_url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
        self._servers: dict[tuple, Gunicorn] = {}

    def get(
        self, env: dict[str, str], *, workers: int = 1, base_url_is_own: bool = False
    ) -> Gunicorn:
        """A running server with these settings (``PLUGIN_BASE_URL`` its own URL if asked)."""
        key = (tuple(sorted(env.items())), workers, base_url_is_own)
        server = self._servers.pop(key, None)
        if server is not None and server.process.poll() is None:
            # Last used goes last: the servers most tests share are never the ones stopped.
            self._servers[key] = server
            return server
        if server is not None:
            server.stop()  # it died: its log is closed and a new one starts
        if len(self._servers) >= self.most:
            least_used = self._servers.pop(next(iter(self._servers)))
            least_used.stop()
            self.reset(least_used)
        name = f"server-{secrets.token_hex(4)}"
        instance = self.folder / name
        instance.mkdir(parents=True)
        port = free_port()
        settings = {
            "PLUGIN_INSTANCE_PATH": str(instance),
            "REDIS_URL": self.redis_url,
            "RATELIMIT_KEY_PREFIX": f"plugin-test-{name}",
            **({"PLUGIN_BASE_URL": f"http://127.0.0.1:{port}"} if base_url_is_own else {}),
            **env,
        }
        server = self._servers[key] = Gunicorn(settings, workers, port=port)
        return server

    def reset(self, server: Gunicorn) -> None:
        """Forget every rate-limit count the server's earlier tests left."""
        prefix = server.settings["RATELIMIT_KEY_PREFIX"]
        client = redis.Redis.from_url(self.redis_url)
        try:
            keys = list(client.scan_iter(match=f"*{prefix}*", count=1000))
            if keys:
                client.delete(*keys)
        finally:
            client.close()

    def close(self) -> None:
        for server in self._servers.values():
            server.stop()
            self.reset(server)
        self._servers.clear()


class TcpProxy:
    """Forward 127.0.0.1:<port> to a server; ``close()`` is that server going away.

    Closing stops listening (new connections are refused) and cuts every forwarded connection,
    which is what the app sees when PostgreSQL restarts or its host vanishes; ``open()`` brings
    it back. The forwarding runs in a process of its own (tests/tcp_proxy.py): in the test's
    process it shared one interpreter lock with the test's load threads and the coverage
    tracer, and a database handshake relayed there could outlast the app's connect timeout.
    """

    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        script = ROOT / "tests" / "tcp_proxy.py"
        self.process = subprocess.Popen(
            [sys.executable, str(script), str(self.port), str(target_port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._ask("open")

    def _ask(self, command: str) -> None:
        """Send ``command`` and wait until the proxy has carried it out."""
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline().strip()
        assert answer == "done", f"the proxy answered {answer!r} to {command!r}"

    def open(self) -> None:
        self._ask("open")

    def close(self) -> None:
        self._ask("close")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream:
                stream.close()


class PrivateRedis:
    """A throw-away redis-server on its own port, so a test can make Redis disappear."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def commands_sent(self, make_requests: Callable[[], object]) -> list[str]:
        """The commands sent to this Redis while ``make_requests`` ran (one per round trip;
        the commands a script runs inside Redis are left out)."""
        marker = "end-of-requests"
        with redis.Redis.from_url(self.url) as watcher, watcher.monitor() as monitor:
            make_requests()
            with redis.Redis.from_url(self.url) as other:
                other.echo(marker)
            sent = []
            while True:
                command = monitor.next_command()
                if command["command"] == f"ECHO {marker}":
                    return sent
                if command["client_type"] != "lua":
                    sent.append(command["command"].split()[0].upper())


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._button: dict | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.forms.append(
                {
                    "action": attrs.get("action", ""),
                    "method": attrs.get("method", "get").lower(),
                    "fields": {},
                    "buttons": [],
                }
            )
        elif not self.forms:
            return
        elif tag == "input" and attrs.get("type") in ("submit",):
            self.forms[-1]["buttons"].append(
                {
                    "name": attrs.get("name"),
                    "value": attrs.get("value", ""),
                    "text": attrs.get("value", ""),
                }
            )
        elif tag == "input" and attrs.get("name"):
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value", "")
        elif tag == "button" and attrs.get("type", "submit") == "submit":
            self._button = {"name": attrs.get("name"), "value": attrs.get("value", ""), "text": ""}
            self.forms[-1]["buttons"].append(self._button)

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button["text"] += data.strip()

    def handle_endtag(self, tag: str) -> None:
        if tag == "button":
            self._button = None


def submit_form(html: str, button_text: str) -> tuple[str, dict[str, str]]:
    """The action and fields a browser sends when the button labelled ``button_text`` is pressed."""
    parser = _FormParser()
    parser.feed(html)
    for form in parser.forms:
        for button in form["buttons"]:
            if button_text.lower() in button["text"].lower():
                data = dict(form["fields"])
                if button["name"]:
                    data[button["name"]] = button["value"]
                return form["action"], data
    raise AssertionError(f"no form with a {button_text!r} button on the page")


def postgres_only(database_url: str, reason: str) -> None:
    """Skip on SQLite, saying why."""
    if database_url.startswith("sqlite"):
        pytest.skip(reason)


def login(http: requests.Session, base_url: str, email: str, password: str) -> requests.Response:
    """Sign in through the real login page, CSRF token included."""
    page = http.get(base_url + "/login")
    assert page.status_code == 200, f"/login answered {page.status_code}"
    return http.post(
        base_url + "/login",
        data={"email": email, "password": password, "csrf_token": csrf_token_from(page.text)},
        allow_redirects=False,
    )
