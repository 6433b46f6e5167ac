"""Settings read from the environment: each bad value is refused with its variable named."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from flask import Flask

from plugin.config import ENV_KEYS, ConfigError, load_config

GOOD_KEY = secrets.token_urlsafe(48)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def settings(monkeypatch, tmp_path):
    """Load settings as the factory does, from a clean environment and an empty instance."""
    for key in (*ENV_KEYS, "FLASK_DEBUG"):
        monkeypatch.delenv(key, raising=False)

    def load(testing: bool = False, **env: str) -> dict:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        app = Flask("plugin", instance_relative_config=True, instance_path=str(tmp_path))
        app.testing = testing
        load_config(app, {"DATABASE_URL": f"sqlite:///{tmp_path / 'plugin.db'}"})
        return app.config

    return load


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"ACCESS_TOKEN_TTL": "an hour"}, "ACCESS_TOKEN_TTL"),
        ({"AUTH_CODE_TTL": "-5"}, "AUTH_CODE_TTL"),
        ({"PLUGIN_BASE_URL": "plugin.example.com"}, "PLUGIN_BASE_URL"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
        ({"LOG_LEVEL": "chatty"}, "LOG_LEVEL"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"OAUTH_CIMD_FETCH_WAIT": "soon"}, "OAUTH_CIMD_FETCH_WAIT"),
        ({"OAUTH_CIMD_FETCH_WAIT": "60"}, "OAUTH_CIMD_FETCH_WAIT"),
    ],
)
def test_a_bad_value_names_its_variable(settings, env, variable):
    with pytest.raises(ConfigError, match=variable):
        settings(**{"SECRET_KEY": GOOD_KEY, **env})


def test_values_from_the_environment_are_typed_and_normalised(settings):
    config = settings(
        SECRET_KEY=GOOD_KEY,
        ACCESS_TOKEN_TTL="120",
        RATELIMIT_ENABLED="off",
        LOG_FORMAT=" JSON ",
        LOG_LEVEL="warning",
        CORS_ORIGINS="https://a.example https://b.example",
        OAUTH_CIMD_FETCH_WAIT="1.5",
    )
    assert config["ACCESS_TOKEN_TTL"] == 120
    assert config["OAUTH_CIMD_FETCH_WAIT"] == 1.5
    assert config["RATELIMIT_ENABLED"] is False
    assert (config["LOG_FORMAT"], config["LOG_LEVEL"]) == ("json", "WARNING")
    assert config["CORS_ORIGINS"] == ["https://a.example", "https://b.example"]


def test_an_https_base_url_makes_cookies_secure(settings):
    config = settings(SECRET_KEY=GOOD_KEY, PLUGIN_BASE_URL="https://plugin.example.com/")
    assert config["PLUGIN_BASE_URL"] == "https://plugin.example.com"
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["PREFERRED_URL_SCHEME"] == "https"


def test_a_plain_http_base_url_is_accepted_for_local_use(settings):
    config = settings(SECRET_KEY=GOOD_KEY, PLUGIN_BASE_URL="http://127.0.0.1:5003")
    assert config["PLUGIN_BASE_URL"] == "http://127.0.0.1:5003"
    assert not config.get("SESSION_COOKIE_SECURE")


def test_development_generates_a_key_once_and_keeps_it(settings, tmp_path):
    first = settings(testing=True)["SECRET_KEY"]
    assert len(first) >= 32
    assert (tmp_path / "secret_key").read_text() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert settings(testing=True)["SECRET_KEY"] == first


def env_example_secret_key() -> str:
    for line in (ROOT / "deploy" / "env.example").read_text().splitlines():
        if line.startswith("SECRET_KEY="):
            return line.removeprefix("SECRET_KEY=")
    raise AssertionError("deploy/env.example sets no SECRET_KEY")


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        pytest.param(env_example_secret_key(), "is a placeholder", id="deploy-env-example"),
        pytest.param("CHANGEME-" + secrets.token_hex(16), "is a placeholder", id="changeme"),
        pytest.param("your-secret-key-" + "0123456789" * 3, "is a placeholder", id="yoursecret"),
        pytest.param(secrets.token_urlsafe(18), "is too short (24 characters", id="short"),
        pytest.param("ab" * 24, "is not random", id="repeated"),
    ],
)
def test_a_placeholder_or_weak_key_is_refused_naming_the_variable(settings, key, reason):
    with pytest.raises(ConfigError) as refused:
        settings(SECRET_KEY=key)
    message = str(refused.value)
    assert message.startswith(f"SECRET_KEY {reason}")
    assert "secrets.token_urlsafe(48)" in message
    assert key not in message


@pytest.mark.parametrize(
    "key", [secrets.token_urlsafe(48), secrets.token_hex(32)], ids=["token_urlsafe", "token_hex"]
)
def test_a_generated_key_is_accepted(settings, key):
    assert settings(SECRET_KEY=key)["SECRET_KEY"] == key


def test_production_without_a_key_refuses_to_start(settings):
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        settings()


def test_a_malformed_rate_limit_stops_startup_naming_the_variable(monkeypatch, tmp_path):
    import subprocess
    import sys

    env = {
        "PATH": "/usr/bin:/bin",
        "LOGIN_RATE_LIMIT": "ten per minute",
        "PLUGIN_INSTANCE_PATH": str(tmp_path),
        "FLASK_DEBUG": "1",
    }
    result = subprocess.run(
        [sys.executable, "-c", "from plugin import create_app; create_app()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "Configuration error: LOGIN_RATE_LIMIT must be a rate such as '10 per minute;50 per hour', "
        "got 'ten per minute'"
    ]
