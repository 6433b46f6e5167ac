"""Fixtures for the real clients: one live server per database per module, the browser.

Each module gets gunicorn behind a :class:`TokenProxy` that is its public origin; each test
empties the tables afterwards (through ``app``). ``server_settings`` (module scope) changes
the server's settings for a module.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clients.client_helpers import CLIENTS, BrowserInbox, TokenProxy, public_server
from tests.helpers import make_oauth_client, make_token, make_user


@pytest.fixture(scope="module")
def server_settings() -> dict[str, str]:
    return {}


@pytest.fixture(scope="module")
def public(database_url, tmp_path_factory, server_settings) -> Iterator[TokenProxy]:
    instance = tmp_path_factory.mktemp("instance")
    with public_server(database_url, instance, **server_settings) as (_, proxy):
        yield proxy


@pytest.fixture
def proxy(public, app) -> Iterator[TokenProxy]:
    """The module's server (its public origin) for one test; the tables are emptied after."""
    yield public
    public.token = None
    public.seen.clear()


@pytest.fixture
def mcp_token(app, proxy) -> str:
    """A token for ``/mcp`` with both todo scopes; the proxy adds it to bare requests."""
    person = make_user(app)
    client = make_oauth_client(app)
    proxy.token = make_token(app, person, client, resource=proxy.url + "/mcp")["access_token"]
    return proxy.token


@pytest.fixture
def inbox(tmp_path) -> BrowserInbox:
    return BrowserInbox(tmp_path)


@pytest.fixture(scope="session")
def fastmcp_python(tmp_path_factory) -> Path:
    """A virtualenv of its own holding fastmcp exactly as fastmcp-requirements.txt pins it
    (its releases move faster than our constraints); the Python to run its client with."""
    folder = tmp_path_factory.mktemp("fastmcp") / "venv"
    # This process's pip installs into it (``--python``), and nothing is compiled ahead: the
    # client imports a small part of what it installs. 12 s against 6 s here.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet"]
        + ["--disable-pip-version-check", "--no-compile", "--no-deps"]
        + ["-r", str(CLIENTS / "fastmcp-requirements.txt")],
        capture_output=True,
        text=True,
        timeout=240,
    )
    if installed.returncode != 0:
        message = f"could not install fastmcp from the package index: {installed.stderr[-500:]}"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return python
