"""Settings: defaults, then the instance config file, then the environment, then overrides.

The defaults are in ``defaults``; each setting read as text is made into a value, or refused
with one line naming it, by ``checks`` (numbers, switches, rates, URLs, logging),
``database``, ``secret_key`` and ``mail``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from flask import Config, Flask, current_app

from plugin.config import checks, database, mail, secret_key
from plugin.config.checks import ConfigError
from plugin.config.defaults import DEFAULTS, ENV_KEYS, UPSTREAM_PREFIX

__all__ = [
    "ENV_KEYS",
    "ConfigError",
    "check_environment",
    "instance_path",
    "load_config",
    "text_setting",
]


def instance_path() -> str | None:
    """The instance folder from ``PLUGIN_INSTANCE_PATH``, or None for Flask's default."""
    path = os.environ.get("PLUGIN_INSTANCE_PATH")
    return os.path.abspath(path) if path else None


def check_environment() -> Config:
    """Load the settings the factory would load, without building the app; raise ConfigError."""
    app = Flask("plugin", instance_relative_config=True, instance_path=instance_path())
    load_config(app, None)
    return app.config


def load_config(app: Flask, overrides: dict[str, Any] | None) -> None:
    """Fill ``app.config``: defaults → instance ``config.py`` → environment → ``overrides``."""
    app.config.update(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    for key in ENV_KEYS:
        value = os.environ.get(key)
        if value not in (None, ""):
            app.config[key] = value
    # One variable set per upstream provider (UPSTREAM_<NAME>_CLIENT_ID…), read by accounts.
    for key, value in os.environ.items():
        if key.startswith(UPSTREAM_PREFIX) and value != "":
            app.config[key] = value
    if overrides:
        app.config.update(overrides)
    config = app.config
    checks.numbers_switches_and_rates(config)
    config["SQLALCHEMY_DATABASE_URI"] = database.database_url(app)
    config["SQLALCHEMY_ENGINE_OPTIONS"] = database.engine_options(config["SQLALCHEMY_DATABASE_URI"])
    config["SECRET_KEY"] = secret_key.secret_key(app)
    checks.public_origin_and_redis(config)
    # After the public origin: mail that is sent needs it for its links.
    mail.mail_settings(app)
    checks.logging_origins_and_cookies(config)


def text_setting(key: str) -> Callable[[], str]:
    """A function reading the current app's ``key`` setting, for options read per request
    (rate limits)."""

    def read() -> str:
        return str(current_app.config[key])

    return read
