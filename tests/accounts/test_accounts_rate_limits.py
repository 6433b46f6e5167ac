"""WL-07: login and signup are throttled per IP and per account, across app instances."""

from __future__ import annotations

import os
import secrets

import pytest
import redis

from plugin import create_app
from plugin.extensions import db
from tests.accounts.account_helpers import without_tokens
from tests.helpers import PASSWORD, csrf_token_from

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def app_config(app_config):
    return {
        **app_config,
        "LOGIN_RATE_LIMIT": "4 per minute",
        "LOGIN_ACCOUNT_RATE_LIMIT": "3 per minute",
        "SIGNUP_RATE_LIMIT": "2 per minute",
    }


def _client(app, ip: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def _login(client, email: str, password: str = "wrong password"):  # noqa: S107
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def test_per_account_limit_counts_across_ips_and_spellings(app, user):
    spellings = ["person@example.com", "PERSON@example.com", " Person@Example.com"]
    statuses = [
        _login(_client(app, f"10.0.0.{i}"), email).status_code for i, email in enumerate(spellings)
    ]
    assert statuses == [200, 200, 200]
    blocked = _login(_client(app, "10.0.0.9"), "person@example.com", PASSWORD)
    assert blocked.status_code == 429
    # Another account from the same IP is not affected.
    assert _login(_client(app, "10.0.0.9"), "other@example.com").status_code == 200


def test_per_ip_limit_counts_every_email(app):
    client = _client(app, "10.0.1.1")
    statuses = [_login(client, f"user{i}@example.com").status_code for i in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    assert _login(_client(app, "10.0.1.2"), "user0@example.com").status_code == 200


def test_page_views_do_not_count(app):
    client = _client(app, "10.0.2.1")
    for _ in range(10):
        assert client.get("/login").status_code == 200
        assert client.get("/signup").status_code == 200
    assert _login(client, "someone@example.com").status_code == 200


def test_the_429_page_asks_to_wait_and_says_nothing_about_the_account(app, user):
    bodies = []
    for email in ("person@example.com", "nobody@example.com"):
        for i in range(3):
            _login(_client(app, f"10.0.3.{i}"), email)
        response = _login(_client(app, "10.0.3.9"), email)
        assert response.status_code == 429
        assert response.mimetype == "text/html"
        assert response.headers["Retry-After"]
        # The login form comes back with what was typed; nothing else differs.
        bodies.append(without_tokens(response.get_data(as_text=True)).replace(email, "EMAIL"))
    assert "Wait a minute, then try again." in bodies[0]
    assert bodies[0] == bodies[1]


def test_signup_is_limited_per_ip(app):
    client = _client(app, "10.0.4.1")
    statuses = []
    for i in range(3):
        token = csrf_token_from(client.get("/signup").get_data(as_text=True))
        statuses.append(
            client.post(
                "/signup",
                data={
                    "email": f"s{i}@example.com",
                    "password": "x",
                    "confirm": "x",
                    "csrf_token": token,
                },
            ).status_code
        )
    assert statuses == [200, 200, 429]


def test_two_app_instances_share_the_count_in_redis(app, app_config):
    """Each instance starts its own limiter storage; only Redis can carry the count over."""
    marker = secrets.token_hex(6)
    email = f"shared-{marker}@example.com"
    ips = [f"10.99.{secrets.randbelow(256)}.{secrets.randbelow(256)}" for _ in range(2)]
    # Only the per-account limit is under test; per-IP keys would outlive the test otherwise.
    config = {**app_config, "REDIS_URL": REDIS_URL, "LOGIN_RATE_LIMIT": "1000 per minute"}
    connection = redis.Redis.from_url(REDIS_URL)
    instances = []
    try:
        instances.append(first := create_app(config))
        statuses = [_login(_client(first, ips[0]), email).status_code for _ in range(2)]
        instances.append(second := create_app(config))
        statuses += [_login(_client(second, ips[1]), email).status_code for _ in range(2)]
        assert statuses == [200, 200, 200, 429]
        assert any(marker in key.decode() for key in connection.scan_iter(f"*{marker}*"))
    finally:
        for pattern in (marker, *ips):
            for key in connection.scan_iter(f"*{pattern}*"):
                connection.delete(key)
        connection.close()
        for instance in instances:
            with instance.app_context():
                db.engine.dispose()


def test_guessing_the_current_password_on_the_account_page_is_limited(app, user):
    client = _client(app, "10.0.6.1")
    assert _login(client, user.email, PASSWORD).status_code == 303
    statuses = []
    for _ in range(5):
        token = csrf_token_from(client.get("/account").get_data(as_text=True))
        statuses.append(
            client.post(
                "/account/password",
                data={
                    "current_password": "a guess",
                    "new_password": "new passphrase one",
                    "confirm": "new passphrase one",
                    "csrf_token": token,
                },
            ).status_code
        )
    assert statuses == [200, 200, 200, 200, 429]
