"""Shared fixtures for tests that need a served app or a browser (a pytest plugin, loaded by
tests/conftest.py): ``server_pool``, ``live_server``, ``browser`` and ``page``.

``live_server`` is `gunicorn wsgi:app` against the test's database, taken from a pool that
keeps one server per database and settings for the whole session (pytest-xdist worker);
``page`` is a fresh browser tab (Debian's chromium driven by Playwright) that saves
screenshots to test-artifacts/.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.servers import SECRET_KEY, Gunicorn, ServerPool

ROOT = Path(__file__).resolve().parents[1]
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


@pytest.fixture(scope="session")
def server_pool(tmp_path_factory) -> Iterator[ServerPool]:
    """The session's shared gunicorn servers, stopped when the session ends."""
    pool = ServerPool(tmp_path_factory.mktemp("servers"))
    yield pool
    pool.close()


@pytest.fixture
def live_server_env(database_url) -> dict[str, str]:
    """Settings for the live server; extend it in a module to change them."""
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        # Journeys log in and out many times from one address.
        "LOGIN_RATE_LIMIT": "1000 per minute",
        "LOGIN_ACCOUNT_RATE_LIMIT": "1000 per minute",
        "SIGNUP_RATE_LIMIT": "1000 per minute",
        # As for the apps in the test process (tests/helpers.py base_config).
        "OAUTH_CIMD_FETCH_WAIT": "5",
    }


@pytest.fixture
def serve(app, live_server_env, server_pool) -> Iterator[Callable[..., Gunicorn]]:
    """``serve(**settings)``: a real HTTP server (gunicorn) on the test's database with the
    live server's settings and these; ``.url`` is its URL. ``workers`` and
    ``base_url_is_own`` (``PLUGIN_BASE_URL`` set to the server's own URL) as ServerPool.get.

    It depends on ``app`` so that the tables are emptied after the test, as for every other
    test. Whatever the servers log during the test must hold no traceback.
    """
    used: list[tuple[Gunicorn, int]] = []

    def start(*, workers: int = 1, base_url_is_own: bool = False, **settings: str) -> Gunicorn:
        server = server_pool.get(
            live_server_env | settings, workers=workers, base_url_is_own=base_url_is_own
        )
        server_pool.reset(server)
        used.append((server, server.log_size()))
        return server

    yield start
    for server, offset in used:
        errors = server.log_since(offset)
        assert "Traceback" not in errors, errors


@pytest.fixture
def live_server(serve) -> Gunicorn:
    """A real HTTP server (one gunicorn worker) on the test's database; ``.url`` is its URL."""
    return serve()


# Per module, not per session: Playwright's sync API allows one running instance at a time,
# and other modules run event loops of their own.
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
