"""Fixtures for the end-to-end journeys.

The live server (gunicorn) and the browser (Debian's Chromium) are the shared fixtures of
tests/live_fixtures.py; this folder adds ChatGPT's side: the callback catcher, an OAuth client
registered for ChatGPT's redirect URI, and admins created the way an operator does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.e2e.chatgpt import CallbackCatcher, ChatGPT, Credentials
from tests.helpers import PASSWORD
from tests.servers import ROOT, clean_env


@pytest.fixture
def chatgpt(live_server) -> ChatGPT:
    return ChatGPT(live_server.url)


@pytest.fixture
def catcher(page) -> Iterator[CallbackCatcher]:
    """Read ChatGPT's callback from the browser; fail if the browser tried other hosts."""
    catcher = CallbackCatcher(page.context)
    yield catcher
    assert not catcher.leaks, f"the browser tried to reach other hosts: {catcher.leaks}"


def register_client(runner, chatgpt: ChatGPT, name: str = "ChatGPT") -> Credentials:
    """Register ChatGPT as an OAuth client with the operator's command."""
    result = runner.invoke(
        args=[
            "clients",
            "create",
            "--name",
            name,
            "--redirect-uri",
            chatgpt.redirect_uri,
            "--scope",
            chatgpt.manifest["auth"]["scope"],
            "--json",
        ]
    )
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert created["redirect_uris"] == [chatgpt.redirect_uri], created
    return Credentials(created["client_id"], created["client_secret"])


@pytest.fixture
def chatgpt_client(runner, chatgpt) -> Credentials:
    return register_client(runner, chatgpt)


def flask_cli(settings: dict[str, str], *args: str, stdin: str = "") -> str:
    """Run `flask --app plugin …` as the operator does, against the live server's database."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "plugin", *args],
        cwd=ROOT,
        env=clean_env(**settings),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture
def make_admin(live_server):
    def create(email: str, password: str = PASSWORD) -> str:
        flask_cli(
            live_server.settings,
            "users",
            "create",
            email,
            "--admin",
            "--password-stdin",
            stdin=password + "\n",
        )
        return email

    return create
