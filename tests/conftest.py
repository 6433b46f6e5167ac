"""Fixtures: a fresh app per test, on SQLite and on PostgreSQL (every test runs on both).

PostgreSQL is this machine's server unless TEST_POSTGRES_URL points elsewhere. Each run creates
its own database and drops it at the end. Without a reachable server the PostgreSQL half is
skipped with a notice, except under CI (CI=true), where that is a failure.
"""

from __future__ import annotations

import os
import re
import secrets
import uuid

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from plugin import create_app
from plugin.extensions import db, limiter

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PASSWORD = "correct horse battery staple"
SECRET_KEY = "test-secret-key-" + "x" * 32
REDIRECT_URI = "https://chat.openai.com/aip/plugin-0123abcd/oauth/callback"


def pytest_report_header(config):
    return f"PostgreSQL for the database-parametrised tests: {POSTGRES_URL}"


def base_config(database_url: str) -> dict:
    return {"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": SECRET_KEY}


def _migrate(url: str) -> None:
    app = create_app(base_config(url))
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    """A migrated, empty database of each kind, shared by the tests of one session."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
        _migrate(url)
        yield url
        return

    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect():
            pass
    except sa.exc.OperationalError as error:
        admin.dispose()
        message = (
            f"PostgreSQL is not reachable at {POSTGRES_URL} ({error.orig.__class__.__name__}); "
            "start it or set TEST_POSTGRES_URL to run the PostgreSQL half of the suite"
        )
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    name = f"plugin_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    try:
        _migrate(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def app_config(database_url) -> dict:
    """Override in a module (or extend in a test) to change the app's settings."""
    return base_config(database_url)


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    with app.app_context():
        limiter.reset()
    yield app
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
                connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(db.metadata.sorted_tables):
                    connection.execute(table.delete())
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


class AuthActions:
    """Sign in and out through the real pages, CSRF tokens included."""

    def __init__(self, client):
        self.client = client

    def csrf(self, path: str = "/login") -> str:
        return csrf_token_from(self.client.get(path).get_data(as_text=True))

    def signup(self, email: str, password: str = PASSWORD, next: str | None = None):
        query = f"?next={next}" if next else ""
        token = self.csrf(f"/signup{query}")
        return self.client.post(
            f"/signup{query}",
            data={"email": email, "password": password, "confirm": password, "csrf_token": token},
        )

    def login(
        self, email: str = "person@example.com", password: str = PASSWORD, next: str | None = None
    ):
        query = f"?next={next}" if next else ""
        token = self.csrf(f"/login{query}")
        return self.client.post(
            f"/login{query}", data={"email": email, "password": password, "csrf_token": token}
        )

    def logout(self):
        token = self.csrf("/account")
        return self.client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client):
    return AuthActions(client)


def make_user(app, email: str = "person@example.com", password: str = PASSWORD, *, is_admin=False):
    from plugin.accounts.services import create_user

    with app.app_context():
        user = create_user(email, password, is_admin=is_admin)
        db.session.commit()
        return db.session.get(type(user), user.id)


@pytest.fixture
def user(app):
    return make_user(app)


@pytest.fixture
def admin_user(app):
    return make_user(app, "admin@example.com", is_admin=True)


class ClientCredentials:
    def __init__(self, row_id: int, client_id: str, client_secret: str, redirect_uri: str):
        self.id = row_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri


def make_oauth_client(
    app, name="ChatGPT", redirect_uri=REDIRECT_URI, scope="todos:read todos:write"
):
    from plugin.digests import digest
    from plugin.oauth.models import OAuthClient

    secret = secrets.token_urlsafe(32)
    with app.app_context():
        row = OAuthClient(
            client_id=secrets.token_urlsafe(18),
            client_secret_hash=digest(secret),
            name=name,
            redirect_uris=[redirect_uri],
            scope=scope,
        )
        db.session.add(row)
        db.session.commit()
        return ClientCredentials(row.id, row.client_id, secret, redirect_uri)


@pytest.fixture
def oauth_client(app):
    return make_oauth_client(app)


def make_token(app, user, oauth_client, scope="todos:read todos:write") -> dict:
    from plugin.accounts.models import User
    from plugin.oauth.models import OAuthClient
    from plugin.oauth.tokens import issue_tokens

    with app.app_context():
        body = issue_tokens(
            db.session.get(OAuthClient, oauth_client.id), db.session.get(User, user.id), scope
        )
        db.session.commit()
        return body


@pytest.fixture
def token(app, user, oauth_client) -> str:
    """An access token for ``user`` through ``oauth_client`` with both todo scopes."""
    return make_token(app, user, oauth_client)["access_token"]
