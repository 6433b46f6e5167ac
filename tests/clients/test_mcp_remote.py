"""mcp-remote (what Claude Desktop and many IDEs run to reach a remote server), unmodified.

A desktop app starts it with the server's URL and a callback port and talks MCP to it over
stdio. It registers by DCR, opens the browser through ``open`` (xdg-open, which hands the URL
to ``$BROWSER`` here: the test then drives Chromium), keeps its tokens under
``MCP_REMOTE_CONFIG_DIR``, and refreshes them (short-lived here). The journey: sign-up and
consent, tools/list, a read and a write, refreshes; a restart that uses the stored tokens and
opens no browser; then a fresh install by the same person on a browser without a session:
log in again, and a consent page again (a loopback client is always asked).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from plugin.api.operations import operations
from plugin.extensions import db
from plugin.oauth.models import OAuthClient, OAuthToken
from tests.clients.client_helpers import (
    BrowserInbox,
    StdioClient,
    log_in_on_the_way,
    sign_up_on_the_way,
)
from tests.live_fixtures import Shots
from tests.servers import free_port

EMAIL = "remote.person@example.com"


@pytest.fixture(scope="module")
def server_settings() -> dict[str, str]:
    # mcp-remote refreshes a token with less than a minute left: with five seconds, every
    # request after the first goes through a refresh.
    return {"ACCESS_TOKEN_TTL": "5"}


class Remote:
    """Starts mcp-remote as a desktop app does, with its own config folder."""

    def __init__(self, node_clients: Path, url: str, home: Path, inbox: BrowserInbox) -> None:
        self.node_clients = node_clients
        self.url = url
        self.home = home
        self.inbox = inbox
        self.port = free_port()
        self.started: list[StdioClient] = []

    def start(self, config: str) -> StdioClient:
        env = {
            **os.environ,
            "HOME": str(self.home),
            "MCP_REMOTE_CONFIG_DIR": str(self.home / config),
            **self.inbox.env,
        }
        command = [
            str(self.node_clients / ".bin" / "node"),
            str(self.node_clients / "mcp-remote" / "dist" / "proxy.js"),
            self.url,
            str(self.port),
        ]
        self.started.append(StdioClient(command, env, self.home / f"{config}.log"))
        return self.started[-1]


@pytest.fixture
def remote(node_clients, proxy, tmp_path, inbox) -> Iterator[Remote]:
    remote = Remote(node_clients, proxy.url + "/mcp", tmp_path, inbox)
    yield remote
    for client in remote.started:
        client.stop()


def tokens_issued(app) -> dict[str, int]:
    """Access tokens issued so far, by client_id."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(OAuthClient.client_id, sa.func.count(OAuthToken.id))
            .join(OAuthToken, OAuthToken.client_id == OAuthClient.id)
            .group_by(OAuthClient.client_id)
        ).all()
        return {client_id: count for client_id, count in rows}


def test_install_refresh_restart_and_a_returning_person(app, remote, inbox, page, browser):
    names = {entry.operation.operation_id for entry in operations(app)}

    # 1. The first install: DCR, the browser, sign-up and consent, then tools.
    first = remote.start("first")
    pending = first.initialize()
    authorize = inbox.next_url(first.process)
    assert authorize.startswith(remote.url.removesuffix("/mcp") + "/oauth/authorize?")
    said = sign_up_on_the_way(page, authorize, EMAIL)
    assert "You allowed" not in said
    assert f"port {remote.port}" in said
    first.initialized(pending)
    assert {tool["name"] for tool in first.request("tools/list")["tools"]} == names
    assert first.call("listTodos")["items"] == []
    created = first.call("createTodo", title="Sent through mcp-remote")
    assert [item["id"] for item in first.call("listTodos", q="mcp-remote")["items"]] == [
        created["id"]
    ]
    first.close()
    log = (remote.home / "first.log").read_text()
    assert "Refreshed the access token" in log
    (client_id,) = tokens_issued(app)
    refreshed = tokens_issued(app)[client_id]
    assert refreshed > 1  # one from the code, the rest from refresh tokens

    # 2. The app restarts: the stored tokens (refreshed again), no browser.
    again = remote.start("first")
    again.initialized(again.initialize())
    assert again.call("getTodo", todo_id=created["id"])["title"] == "Sent through mcp-remote"
    again.close()
    assert inbox.taken == 1 and len(inbox.file.read_text().split()) == 1
    assert tokens_issued(app) == {client_id: tokens_issued(app)[client_id]}
    assert tokens_issued(app)[client_id] > refreshed

    # 3. A fresh install by the same person, in a browser that holds no session.
    context = browser.new_context()
    try:
        fresh_page = context.new_page()
        fresh_page.set_default_timeout(10_000)
        fresh_page.shots = Shots(fresh_page, page.shots.folder.name + "-returning")
        fresh = remote.start("fresh")
        pending = fresh.initialize()
        authorize = inbox.next_url(fresh.process)
        assert f"client_id={client_id}&" in authorize
        said = log_in_on_the_way(fresh_page, authorize, EMAIL)
        fresh.initialized(pending)
        assert f"port {remote.port}" in said
        items = fresh.call("listTodos")["items"]
        fresh.close()
    finally:
        context.close()
    assert [item["title"] for item in items] == ["Sent through mcp-remote"]
    assert [item["title"] for item in items] == ["Sent through mcp-remote"]
    # The same metadata registered again is the same registration (no pile of twins), and
    # the person, logged in again, was asked again: loopback consent is never remembered.
    assert list(tokens_issued(app)) == [client_id]
    assert "You allowed" in said and "before" in said
