"""Fixtures: a fresh app per test, on SQLite and on PostgreSQL (every test runs on both).

PostgreSQL is this machine's server unless TEST_POSTGRES_URL points elsewhere. Each run creates
its own database and drops it at the end. Without a reachable server the PostgreSQL half is
skipped with a notice, except under CI (CI=true), where that is a failure.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from plugin import create_app
from plugin.extensions import db, limiter
from tests.clients.oidc_provider import OidcProvider
from tests.helpers import (
    POSTGRES_URL,
    AuthActions,
    base_config,
    build_app,
    make_oauth_client,
    make_token,
    make_user,
)
from tests.oauth.oauth_helpers import allow, authorize_url, callback_params

# The served app and the browser: fixtures shared by several folders.
pytest_plugins = ("tests.live_fixtures",)


def pytest_report_header(config):
    return f"PostgreSQL for the database-parametrised tests: {POSTGRES_URL}"


def _migrate(url: str) -> None:
    app = create_app(base_config(url))
    with app.app_context():
        upgrade()
        db.engine.dispose()


@contextmanager
def memory_folder(tmp_path_factory) -> Iterator[Path]:
    """A folder in memory (``/dev/shm``) where the machine has one, else a temporary folder.

    The app asks SQLite to wait for the disk on every commit (``synchronous=FULL``): 2 ms a
    commit on this machine's disk, 0.02 ms in memory, and the tests commit thousands of times.
    """
    shm = Path("/dev/shm")  # noqa: S108 (a folder of its own is made in it, mkdtemp)
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path_factory.mktemp("sqlite")
        return
    folder = Path(tempfile.mkdtemp(prefix="plugin-tests-", dir=shm))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class Databases:
    """One migrated database of each kind for the session, made when a test first asks for it.

    ``database_url`` is parametrised at session scope, and pytest finalises such a fixture
    whenever the next test wants the other parameter. pytest-xdist hands a worker one module
    at a time, each running its SQLite tests and then its PostgreSQL ones, so a database made
    inside the fixture was dropped and made again (and migrated, and every shared server
    started again on its new URL) for every module. The databases live here instead, for
    the whole session; the ``app`` fixture empties their tables after each test.
    """

    def __init__(self, stack: ExitStack, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.stack = stack
        self.tmp_path_factory = tmp_path_factory
        self.urls: dict[str, str] = {}

    def url(self, kind: str) -> str:
        if kind not in self.urls:
            make = self._sqlite if kind == "sqlite" else self._postgresql
            self.urls[kind] = self.stack.enter_context(make())
        return self.urls[kind]

    @contextmanager
    def _sqlite(self) -> Iterator[str]:
        with memory_folder(self.tmp_path_factory) as folder:
            url = f"sqlite:///{folder / 'test.db'}"
            _migrate(url)
            yield url

    @contextmanager
    def _postgresql(self) -> Iterator[str]:
        admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect():
                pass
        except sa.exc.OperationalError as error:
            admin.dispose()
            message = (
                f"PostgreSQL is not reachable at {POSTGRES_URL} "
                f"({error.orig.__class__.__name__}); start it or set TEST_POSTGRES_URL to run "
                "the PostgreSQL half of the suite"
            )
            if os.environ.get("CI"):
                pytest.fail(message, pytrace=False)
            pytest.skip(message)
        name = f"plugin_test_{uuid.uuid4().hex[:12]}"
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
            # A commit need not wait for the WAL to reach the disk (2 ms a commit here): a
            # throwaway database loses nothing that matters in a crash.
            connection.execute(sa.text(f'ALTER DATABASE "{name}" SET synchronous_commit TO off'))
        url = sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        try:
            _migrate(url)
            yield url
        finally:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory) -> Iterator[Databases]:
    with ExitStack() as stack:
        yield Databases(stack, tmp_path_factory)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, databases) -> str:
    """A migrated database of each kind, shared by the tests of one session."""
    return databases.url(request.param)


@pytest.fixture
def app_config(database_url) -> dict:
    """Override in a module (or extend in a test) to change the app's settings."""
    return base_config(database_url)


@pytest.fixture
def app(app_config):
    app = build_app(app_config)
    with app.app_context():
        limiter.reset()
    yield app
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())
            if connection.dialect.name == "postgresql":
                # Ids start at 1 again, as on SQLite. Deleting the few rows a test leaves and
                # resetting every sequence in one statement took a sixth of the time TRUNCATE
                # ... RESTART IDENTITY did (0.02 s against 0.14 s a test).
                connection.execute(
                    sa.text("SELECT setval(c.oid, 1, false) FROM pg_class c WHERE c.relkind = 'S'")
                )
        db.engine.dispose()


@pytest.fixture
def other_app(app, app_config):
    """``other_app(**settings)``: one more app on the test's database with these settings on
    top of ``app_config``. Its engine is closed afterwards and the tables are emptied (``app``)."""
    apps = []

    def build(**settings):
        apps.append(build_app({**app_config, **settings}))
        return apps[-1]

    yield build
    for built in apps:
        with built.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def mailbox():
    """A real SMTP server on a free loopback port; point ``MAIL_URL`` at ``mailbox.url``."""
    from tests.mail_helpers import Mailbox

    box = Mailbox()
    box.start()
    yield box
    box.stop()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def user(app):
    return make_user(app)


@pytest.fixture
def admin_user(app):
    return make_user(app, "admin@example.com", is_admin=True)


@pytest.fixture
def oauth_client(app):
    return make_oauth_client(app)


@pytest.fixture
def token(app, user, oauth_client) -> str:
    """An access token for ``user`` through ``oauth_client`` with both todo scopes."""
    return make_token(app, user, oauth_client)["access_token"]


NODE_CLIENTS = Path(__file__).resolve().parent / "clients" / "node_modules"


@pytest.fixture(scope="session")
def node_clients() -> Path:
    """tests/clients/node_modules: the pinned Node 22 and the npm clients the tests drive.

    Missing outside CI, the tests that need it are skipped with the command that installs it;
    under CI (``.ci/run`` installs it first) that is a failure.
    """
    if not (NODE_CLIENTS / ".bin" / "node").exists():
        message = f"{NODE_CLIENTS} is missing: run `npm ci --prefix tests/clients`"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return NODE_CLIENTS


@pytest.fixture(scope="session")
def oidc_provider(node_clients):
    """A real OpenID Connect provider (panva's oidc-provider) on a free loopback port."""
    running = OidcProvider(node_clients)
    yield running
    running.stop()


# --- an install's browser half and token exchange (oauth and connections tests) ----------


@pytest.fixture
def signed_in(auth, user):
    assert auth.login(user.email).status_code == 303
    return auth.client


@pytest.fixture
def get_code(signed_in, oauth_client):
    """Run the browser half of an install for ``user``; return the code."""

    def run(client=oauth_client, **params) -> str:
        url = authorize_url(client, **params)
        first = signed_in.get(url)
        # Consent is remembered: a repeated install goes straight back to the client.
        response = first if first.status_code == 302 else allow(signed_in, url)
        params = callback_params(response)
        assert "code" in params, params
        return params["code"]

    return run


@pytest.fixture
def exchange(client, oauth_client):
    """POST a code to the token endpoint as ChatGPT does (JSON, credentials in the body)."""

    def run(code: str, creds=oauth_client, **extra):
        body = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": creds.redirect_uri,
            "client_id": creds.client_id,
            "client_secret": creds.client_secret,
        }
        body.update(extra)
        return client.post("/oauth/token", json={k: v for k, v in body.items() if v is not None})

    return run


@pytest.fixture
def tokens(get_code, exchange) -> dict:
    response = exchange(get_code())
    assert response.status_code == 200, response.json
    return response.json


@pytest.fixture
def admin(app, admin_user, auth):
    """The test client, signed in as ``admin_user``."""
    assert auth.login(admin_user.email).status_code == 303
    return auth.client
