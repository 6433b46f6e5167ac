"""fastmcp's client (``Client(url, auth=OAuth(callback_port=…))``), unmodified, in its own
virtualenv: DCR, the browser through ``$BROWSER`` (Python's webbrowser), sign-up and consent,
tools, a write and a read after its access token expired and it refreshed; then the same
person installing again from a browser without a session: log in, and asked again.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from plugin.api.operations import operations
from plugin.extensions import db
from plugin.oauth.models import OAuthClient, OAuthToken
from tests.clients.client_helpers import CLIENTS, log_in_on_the_way, sign_up_on_the_way
from tests.live_fixtures import Shots
from tests.servers import free_port

EMAIL = "fast.person@example.com"
ACCESS_TTL = 4


@pytest.fixture(scope="module")
def server_settings() -> dict[str, str]:
    return {"ACCESS_TOKEN_TTL": str(ACCESS_TTL)}


@pytest.fixture
def install(fastmcp_python, proxy, inbox) -> Iterator:
    """Run fastmcp_install.py; the person's half (``browse``) runs once it opened a URL."""
    started: list[subprocess.Popen] = []
    port = free_port()

    def run(browse, *, wait: float, title: str) -> tuple[dict, str]:
        process = subprocess.Popen(
            [str(fastmcp_python), str(CLIENTS / "fastmcp_install.py")]
            + [proxy.url + "/mcp", str(port), str(wait), title],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **inbox.env},
        )
        started.append(process)
        authorize = inbox.next_url(process)
        browse(authorize)
        out, err = process.communicate(timeout=90)
        assert process.returncode == 0, out + err
        return json.loads(out), authorize

    yield run
    for process in started:
        if process.poll() is None:
            process.kill()
            process.communicate()


def tokens_by_client(app) -> dict[str, int]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(OAuthClient.client_id, sa.func.count(OAuthToken.id))
            .join(OAuthToken, OAuthToken.client_id == OAuthClient.id)
            .group_by(OAuthClient.client_id)
        ).all()
        return {client_id: count for client_id, count in rows}


def test_install_refresh_and_a_returning_person(app, install, inbox, page, browser):
    said: list[str] = []

    first, authorize = install(
        lambda url: said.append(sign_up_on_the_way(page, url, EMAIL)),
        wait=ACCESS_TTL + 1,
        title="Sent through fastmcp",
    )
    assert first["tools"] == sorted(entry.operation.operation_id for entry in operations(app))
    assert first["created"]["title"] == "Sent through fastmcp"
    assert first["titles"] == ["Sent through fastmcp"]
    assert "You allowed" not in said[0]
    (client_id,) = tokens_by_client(app)
    assert f"client_id={client_id}&" in authorize
    # The code's token, then the refreshed one that read the list after the first expired.
    assert tokens_by_client(app)[client_id] == 2

    context = browser.new_context()
    try:
        fresh = context.new_page()
        fresh.set_default_timeout(10_000)
        fresh.shots = Shots(fresh, page.shots.folder.name + "-returning")
        again, authorize = install(
            lambda url: said.append(log_in_on_the_way(fresh, url, EMAIL)), wait=0, title=""
        )
    finally:
        context.close()
    assert again["titles"] == ["Sent through fastmcp"]
    assert f"client_id={client_id}&" in authorize  # the same registration found again
    assert "You allowed" in said[1] and "before" in said[1]
    assert len(inbox.file.read_text().split()) == 2
