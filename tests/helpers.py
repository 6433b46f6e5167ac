"""Helpers the tests share: signing in through the real pages, and making users, clients and
tokens through the same services the app uses."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from sqlalchemy import event
from werkzeug.serving import make_server

from plugin import create_app
from plugin.extensions import db

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SECRET_KEY = "test-secret-key-" + "x" * 32
PASSWORD = "correct horse battery staple"
REDIRECT_URI = "https://chat.openai.com/aip/plugin-0123abcd/oauth/callback"


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


def make_user(app, email: str = "person@example.com", password: str = PASSWORD, *, is_admin=False):
    from plugin.accounts.services import create_user

    with app.app_context():
        user = create_user(email, password, is_admin=is_admin)
        db.session.commit()
        return db.session.get(type(user), user.id)


class ClientCredentials:
    def __init__(self, row_id: int, client_id: str, client_secret: str, redirect_uri: str):
        self.id = row_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri


def make_oauth_client(
    app, name="ChatGPT", redirect_uri=REDIRECT_URI, scope="todos:read todos:write"
):
    """Register a confidential client through the same service the admin and CLI use."""
    from plugin.oauth.clients.manage import create_client

    with app.app_context():
        row, secret = create_client(name, [redirect_uri], scope)
        db.session.commit()
        assert secret is not None
        return ClientCredentials(row.id, row.client_id, secret, redirect_uri)


def make_token(
    app, user, oauth_client, scope="todos:read todos:write", resource: str | None = None
) -> dict:
    """A stored token pair, for ``/api`` or (``resource``) the resource at that URL."""
    from plugin.accounts.models import User
    from plugin.oauth.models import OAuthClient
    from plugin.oauth.tokens.issue import issue_tokens

    with app.app_context():
        body = issue_tokens(
            db.session.get(OAuthClient, oauth_client.id),
            db.session.get(User, user.id),
            scope,
            resource=resource,
        )
        db.session.commit()
        return body


def post_at_once(posts) -> list[int]:
    """POST each ``(test_client, path, csrf_token)`` from its own thread, all released at
    once (a race), and return the statuses in the order they finished."""
    start = threading.Barrier(len(posts))
    statuses: list[int] = []
    errors: list[BaseException] = []

    def post(http, path: str, token: str) -> None:
        try:
            start.wait()
            statuses.append(http.post(path, data={"csrf_token": token}).status_code)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=post, args=args) for args in posts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return statuses


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve ``app`` on a free loopback port in a thread; yield its origin."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


def base_config(database_url: str) -> dict:
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        # Loopback metadata documents arrive in milliseconds, but a busy test machine can
        # take longer than production's half second to run the fetch beside the request.
        "OAUTH_CIMD_FETCH_WAIT": 5,
    }


class CompiledTemplates(BytecodeCache):
    """Templates compiled once for the whole run, in memory.

    Every test builds its own app, and each app's Jinja environment would compile every template
    it renders again (a login page: its template, the base layout and the macros, ~10 ms). Jinja
    checks each entry against the template source's checksum, so an edited template is compiled
    afresh.
    """

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self.compiled.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = CompiledTemplates()


def build_app(config: dict) -> Flask:
    """``create_app(config)`` sharing the run's compiled templates."""
    app = create_app(config)
    app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
    return app


@contextmanager
def engine_listener(app, name: str, listener) -> Iterator[None]:
    """Attach ``listener`` to ``app``'s engine event ``name`` for the ``with`` block."""
    with app.app_context():
        engine = db.engine
    event.listen(engine, name, listener)
    try:
        yield
    finally:
        event.remove(engine, name, listener)
