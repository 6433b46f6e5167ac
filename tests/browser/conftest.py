"""A live server and a real browser (Debian's chromium driven by Playwright) for journeys.

``live_server`` runs `gunicorn wsgi:app` on a free loopback port against the test database
of the ``database_url`` fixture; ``page`` is a fresh browser tab that saves screenshots to
test-artifacts/. Both are meant for every browser journey, not only the accounts one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.production.servers import SECRET_KEY, Gunicorn

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    # No host name resolves: nothing a page links or redirects to can leave the machine
    # (OAuth redirects to chat.openai.com fail inside the browser, where tests read them).
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]


@pytest.fixture
def live_server_env(database_url, tmp_path) -> dict[str, str]:
    """Settings for the live server; extend it in a module to change them."""
    instance = tmp_path / "instance"
    instance.mkdir()
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "PLUGIN_INSTANCE_PATH": str(instance),
        # Journeys log in and out many times from one address.
        "LOGIN_RATE_LIMIT": "1000 per minute",
        "LOGIN_ACCOUNT_RATE_LIMIT": "1000 per minute",
        "SIGNUP_RATE_LIMIT": "1000 per minute",
    }


@pytest.fixture
def live_server(app, live_server_env) -> Iterator[Gunicorn]:
    """A real HTTP server (one gunicorn worker); ``.url`` is its base URL.

    It depends on ``app`` so that the tables are emptied after the test, as for every other
    test; the server is stopped before that happens.
    """
    server = Gunicorn(live_server_env, workers=1)
    yield server
    errors = server.stop()
    assert "Traceback" not in errors, errors


# Per module, not per session: tests/e2e imports these fixtures too, and Playwright's sync
# API allows one running instance at a time; modules run one after another.
@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Shots:
    """Numbered screenshots named after the test: test-artifacts/<test>/<nn>-<name>.png."""

    def __init__(self, page, test_name: str) -> None:
        self.page = page
        self.folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", test_name)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def __call__(self, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def page(browser, request):
    """A fresh tab; CSP violations reported by the browser fail the test."""
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    violations: list[str] = []
    tab.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    tab.shots = Shots(tab, request.node.name)
    yield tab
    context.close()
    assert not violations, violations
