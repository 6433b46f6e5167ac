"""DS-05: the database goes away under load and comes back; gunicorn keeps its workers.

The app talks to PostgreSQL through a TCP proxy owned by the test, so "the database goes
away" is the proxy closing (new connections refused, open ones cut) — the shared server
itself is never touched.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
import requests
import sqlalchemy as sa

from tests.helpers import PASSWORD
from tests.servers import POSTGRES_PORT, TcpProxy, login, postgres_only

# Pages and endpoints that all need the database, for people and for programs.
TARGETS = [
    ("GET", "/healthz"),
    ("GET", "/login"),
    ("GET", "/account"),
    ("GET", "/.well-known/ai-plugin.json"),
    ("POST", "/oauth/introspect"),
    ("GET", "/api/todos"),
]


class Load:
    """Threads sending requests round-robin over TARGETS, counting statuses by phase."""

    def __init__(self, base_url: str, cookies: dict, headers: dict, client_auth) -> None:
        self.base_url = base_url
        self.cookies = cookies
        self.headers = headers
        self.client_auth = client_auth
        self.phase = "before"
        self.statuses: Counter = Counter()
        self.bad: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(4)]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(10)

    def _run(self) -> None:
        with requests.Session() as http:
            http.cookies.update(self.cookies)
            i = 0
            while not self._stop.is_set():
                method, path = TARGETS[i % len(TARGETS)]
                i += 1
                kwargs = {"headers": self.headers, "timeout": 10, "allow_redirects": False}
                if path == "/oauth/introspect":
                    kwargs.update(auth=self.client_auth, data={"token": "x"})
                try:
                    response = http.request(method, self.base_url + path, **kwargs)
                except requests.RequestException as error:
                    self.bad.append(f"{self.phase} {path}: {error.__class__.__name__}")
                    continue
                self.statuses[(self.phase, response.status_code)] += 1
                if response.status_code >= 500 and response.status_code != 503:
                    self.bad.append(f"{self.phase} {method} {path}: {response.status_code}")
                if response.status_code == 503:
                    self._check_503(path, response)

    def _check_503(self, path: str, response: requests.Response) -> None:
        if path.startswith(("/api/", "/oauth/introspect", "/.well-known/", "/healthz")):
            try:
                body = response.json()
            except ValueError:
                body = {}
            if "error" not in body and "status" not in body:
                self.bad.append(f"{path}: 503 without a JSON body")
        elif "temporarily unavailable" not in response.text:
            self.bad.append(f"{path}: 503 page without a clear message")


def healthz(base_url: str) -> tuple[int, float]:
    started = time.monotonic()
    status = requests.get(base_url + "/healthz", timeout=10).status_code
    return status, time.monotonic() - started


def wait_for_health(base_url: str, wanted: int, within: float) -> float:
    """Poll /healthz until it answers ``wanted``; return how long that took."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        status, took = healthz(base_url)
        assert took < 2.5, f"/healthz took {took:.1f}s"
        if status == wanted:
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"/healthz did not answer {wanted} within {within}s")


@pytest.fixture
def db_proxy(database_url):
    postgres_only(database_url, "the outage is simulated on PostgreSQL's TCP connection")
    proxy = TcpProxy(POSTGRES_PORT)
    yield proxy
    proxy.stop()


def test_database_outage_gives_fast_503s_then_recovers_without_restarts(
    app, database_url, db_proxy, server_env, gunicorn_factory, user, oauth_client, token
):
    proxied = sa.make_url(database_url).set(port=db_proxy.port)
    database = proxied.render_as_string(hide_password=False)
    # No recycling after N requests: the point is that the same workers live through it.
    settings = {**server_env, "DATABASE_URL": database, "GUNICORN_MAX_REQUESTS": "0"}
    server = gunicorn_factory(settings, workers=2)
    workers = sorted(server.worker_pids())
    with requests.Session() as http:
        assert login(http, server.url, user.email, PASSWORD).status_code in (302, 303)
        cookies = dict(http.cookies)

    load = Load(
        server.url,
        cookies,
        {"Authorization": f"Bearer {token}"},
        (oauth_client.client_id, oauth_client.client_secret),
    )
    with load:
        time.sleep(1)
        load.phase = "outage"
        db_proxy.close()
        wait_for_health(server.url, 503, within=3)
        time.sleep(2)
        for _ in range(4):
            status, took = healthz(server.url)
            assert (status, took < 2) == (503, True)
        load.phase = "recovery"
        db_proxy.open()
        recovered_after = wait_for_health(server.url, 200, within=10)
        time.sleep(1)
        load.phase = "after"
        time.sleep(1.5)

    assert load.bad == [], server_errors(server)
    assert load.statuses[("outage", 503)] > 0
    assert not any(status == 503 for (phase, status) in load.statuses if phase == "after")
    assert any(status == 200 for (phase, status) in load.statuses if phase == "after")
    assert recovered_after < 5
    # Every worker recovered by itself: the same processes serve as before the outage.
    assert sorted(server.worker_pids()) == workers, server.stop()
    for _ in range(6):
        assert healthz(server.url)[0] == 200


def server_errors(server) -> str:
    """What the server logged besides request lines and the expected outage errors."""
    noise = ("INFO", "database unavailable")
    lines = server.stop().splitlines()
    return "\n".join(line for line in lines if not any(word in line for word in noise))[-8000:]
