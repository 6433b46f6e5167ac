"""Settings: defaults, then the instance config file, then the environment, then overrides."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import Config, Flask, current_app
from limits import parse_many
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from plugin.hosts import is_loopback


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


DEFAULTS: dict[str, Any] = {
    "SECRET_KEY": None,
    "DATABASE_URL": None,
    "REDIS_URL": None,
    "PLUGIN_BASE_URL": None,
    "OPENAI_VERIFICATION_TOKEN": None,
    # Served at /.well-known/openai-apps-challenge for OpenAI's app directory (404 while unset).
    "OPENAI_APPS_CHALLENGE_TOKEN": None,
    "ACCESS_TOKEN_TTL": 3600,
    "REFRESH_TOKEN_TTL": 2_592_000,
    "AUTH_CODE_TTL": 300,
    "PENDING_ACTION_TTL": 900,
    "PASSWORD_RESET_TTL": 86_400,
    # Links people receive by e-mail: a forgotten password, a new address, a verification.
    "FORGOT_PASSWORD_TTL": 3600,
    "EMAIL_CHANGE_TTL": 86_400,
    "EMAIL_VERIFICATION_TTL": 259_200,
    # How long a browser has to answer a passkey prompt (plugin/accounts/ceremonies.py).
    "PASSKEY_CHALLENGE_TTL": 300,
    # Unset: messages are printed to the console and kept in the admin outbox (development).
    "MAIL_URL": None,
    "MAIL_FROM": None,
    "MAIL_TIMEOUT": 10,
    "REQUIRE_VERIFIED_EMAIL": False,
    # Manifest text; an operator changes these for their own plugin.
    "PLUGIN_NAME_FOR_HUMAN": "Todo Plugin",
    "PLUGIN_NAME_FOR_MODEL": "todo_plugin",
    "PLUGIN_DESCRIPTION_FOR_HUMAN": "Keep a personal todo list from ChatGPT.",
    "PLUGIN_CONTACT_EMAIL": "support@example.com",
    "PLUGIN_DESCRIPTION_FOR_MODEL": (
        "Manage the person's personal todo list. Use it when they want to add, find, review, "
        "update, complete or delete their todos or tasks. Search with listTodos before acting "
        "on an item named in words. Show each item's url as a link. Deleting never happens at "
        "once: deleteTodo returns a confirm_url; give that link to the person and tell them "
        "the item is deleted only after they open it and confirm. Check the outcome with "
        "getActionStatus. Never claim an item was deleted before the status says confirmed."
    ),
    # Who runs this deployment (a person or company, as verified with the app directories):
    # the built-in privacy, terms and support pages name it.
    "PLUGIN_PUBLISHER": None,
    # The text of /legal; None shows the built-in summary with links to the policy pages.
    "PLUGIN_LEGAL_TEXT": None,
    "CORS_ORIGINS": "https://chat.openai.com https://chatgpt.com",
    "PROXY_FIX_HOPS": 0,
    "LOG_FORMAT": "text",
    "LOG_LEVEL": "INFO",
    # Several apps may share one Redis; the prefix keeps their rate-limit counters apart.
    "RATELIMIT_KEY_PREFIX": "plugin",
    # Failed logins only: per address, per account and address pair, and per account from
    # browsers that never signed in to it (plugin/accounts/throttle.py).
    "LOGIN_RATE_LIMIT": "10 per minute;50 per hour",
    "LOGIN_PAIR_RATE_LIMIT": "5 per minute;30 per hour",
    "LOGIN_ACCOUNT_RATE_LIMIT": "10 per minute;100 per hour",
    "SIGNUP_RATE_LIMIT": "5 per minute;30 per hour",
    "FORGOT_PASSWORD_RATE_LIMIT": "5 per minute;20 per hour",
    # Passkey prompts started (sign-in or adding one) per client address.
    "PASSKEY_RATE_LIMIT": "30 per minute;300 per hour",
    # E-mails about one account (reset links, verification, new address), whoever asks.
    "ACCOUNT_MAIL_RATE_LIMIT": "3 per 15 minutes;10 per day",
    # Per address: ChatGPT calls from a few shared addresses on behalf of every user.
    "TOKEN_RATE_LIMIT": "300 per minute",
    "CLIENT_AUTH_FAILURE_LIMIT": "10 per minute",
    "API_RATE_LIMIT": "600 per minute",
    "RATELIMIT_ENABLED": True,
    # ChatGPT apps and Claude connectors (docs/chatgpt-setup.md).
    "MCP_ENABLED": True,
    # _meta.ui.domain of the UIs (MCP Apps): "claude" is <sha256(MCP URL)[:32]>
    # .claudemcpcontent.com, the only value Claude accepts (ChatGPT derives its own origin from
    # the same URL); "none" leaves it out; anything else is sent as it is.
    "MCP_UI_DOMAIN": "claude",
    "OAUTH_DCR_ENABLED": True,
    "OAUTH_CIMD_ENABLED": True,
    # Unset: any public https host may serve a client metadata document; else a list.
    "OAUTH_CIMD_ALLOWED_HOSTS": None,
    # Development and tests only: fetch metadata documents from http://127.0.0.1/localhost.
    "OAUTH_CIMD_ALLOW_LOOPBACK": False,
    # Per address; Claude registers anew on every fresh connection.
    "REGISTRATION_RATE_LIMIT": "20 per hour",
    # How long a retried refresh of a public client's just-rotated token gets the same pair.
    "REFRESH_RETRY_GRACE": 60,
    # Request limits (plugin/inputs.py): bytes in a body, bytes in one multipart field, and
    # fields in a form. No page or API call comes near them.
    "MAX_CONTENT_LENGTH": 1_048_576,
    "MAX_FORM_MEMORY_SIZE": 65_536,
    "MAX_FORM_PARTS": 200,
    # Connection traces (Admin → Connections) are kept this many days after their last step.
    "CONNECTION_TRACE_DAYS": 14,
    # How people sign in: local (passwords, passkeys), upstream (providers only) or both.
    "SIGN_IN_METHODS": "both",
    # Upstream sign-in (docs/accounts.md): the providers' names, each configured by its own
    # UPSTREAM_<NAME>_… variables, and the seconds any call to a provider may take.
    "UPSTREAM_PROVIDERS": None,
    "UPSTREAM_TIMEOUT": 5,
}

INT_KEYS = (
    "ACCESS_TOKEN_TTL",
    "REFRESH_TOKEN_TTL",
    "AUTH_CODE_TTL",
    "PENDING_ACTION_TTL",
    "PASSWORD_RESET_TTL",
    "FORGOT_PASSWORD_TTL",
    "EMAIL_CHANGE_TTL",
    "EMAIL_VERIFICATION_TTL",
    "PASSKEY_CHALLENGE_TTL",
    "MAIL_TIMEOUT",
    "PROXY_FIX_HOPS",
    "REFRESH_RETRY_GRACE",
    "CONNECTION_TRACE_DAYS",
    "UPSTREAM_TIMEOUT",
)
BOOL_KEYS = (
    "RATELIMIT_ENABLED",
    "MCP_ENABLED",
    "OAUTH_DCR_ENABLED",
    "OAUTH_CIMD_ENABLED",
    "OAUTH_CIMD_ALLOW_LOOPBACK",
    "REQUIRE_VERIFIED_EMAIL",
)
LIMIT_KEYS = ("MAX_CONTENT_LENGTH", "MAX_FORM_MEMORY_SIZE", "MAX_FORM_PARTS")
ENV_KEYS = tuple(DEFAULTS)
RATE_LIMIT_KEYS = tuple(key for key in DEFAULTS if key.endswith(("_RATE_LIMIT", "_FAILURE_LIMIT")))
MAIL_SCHEMES = ("smtp", "smtps", "smtp+insecure")
UPSTREAM_PREFIX = "UPSTREAM_"
SIGN_IN_METHODS = ("local", "upstream", "both")


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
    _coerce_and_validate(app)


def _coerce_and_validate(app: Flask) -> None:
    config = app.config
    for key in INT_KEYS:
        try:
            config[key] = int(config[key])
        except (TypeError, ValueError):
            raise ConfigError(
                f"{key} must be a whole number of seconds, got {config[key]!r}"
            ) from None
        if config[key] < 0:
            raise ConfigError(f"{key} must not be negative")
    for key in LIMIT_KEYS:
        try:
            config[key] = int(config[key])
        except (TypeError, ValueError):
            raise ConfigError(f"{key} must be a whole number, got {config[key]!r}") from None
        if config[key] < 1:
            raise ConfigError(f"{key} must be at least 1")
    for key in BOOL_KEYS:
        if isinstance(config[key], str):
            config[key] = config[key].strip().lower() not in ("0", "false", "no", "off")
    hosts = config["OAUTH_CIMD_ALLOWED_HOSTS"]
    if isinstance(hosts, str):
        config["OAUTH_CIMD_ALLOWED_HOSTS"] = [host.lower() for host in hosts.split()] or None

    for key in RATE_LIMIT_KEYS:
        try:
            parse_many(str(config[key]))
        except ValueError:
            raise ConfigError(
                f"{key} must be a rate such as '10 per minute;50 per hour', got {config[key]!r}"
            ) from None

    config["SQLALCHEMY_DATABASE_URI"] = _database_url(app)
    config["SQLALCHEMY_ENGINE_OPTIONS"] = _engine_options(config["SQLALCHEMY_DATABASE_URI"])
    config["SECRET_KEY"] = _secret_key(app)

    base = config["PLUGIN_BASE_URL"]
    if base:
        base = base.rstrip("/")
        if not base.startswith(("https://", "http://")):
            raise ConfigError(f"PLUGIN_BASE_URL must start with https:// (got {base!r})")
        config["PLUGIN_BASE_URL"] = base
        if base.startswith("https://"):
            config["SESSION_COOKIE_SECURE"] = True
            config["PREFERRED_URL_SCHEME"] = "https"

    redis_url = config["REDIS_URL"]
    if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(
            f"REDIS_URL must start with redis://, rediss:// or unix:// (got {redis_url!r})"
        )
    config["RATELIMIT_STORAGE_URI"] = redis_url or "memory://"
    if redis_url:
        # A Redis that stops answering must cost a request milliseconds, not minutes: the
        # limiter then counts in process memory until Redis is back (extensions.py).
        config.setdefault(
            "RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
        )

    _mail_settings(app)

    methods = str(config["SIGN_IN_METHODS"]).strip().lower()
    if methods not in SIGN_IN_METHODS:
        raise ConfigError(
            f"SIGN_IN_METHODS must be local, upstream or both (got {config['SIGN_IN_METHODS']!r})"
        )
    config["SIGN_IN_METHODS"] = methods

    log_format = str(config["LOG_FORMAT"]).strip().lower()
    if log_format not in ("text", "json"):
        raise ConfigError(f"LOG_FORMAT must be text or json (got {config['LOG_FORMAT']!r})")
    config["LOG_FORMAT"] = log_format
    config["LOG_LEVEL"] = str(config["LOG_LEVEL"]).strip().upper()
    if config["LOG_LEVEL"] not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(
            f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR (got {config['LOG_LEVEL']!r})"
        )

    if isinstance(config["CORS_ORIGINS"], str):
        config["CORS_ORIGINS"] = config["CORS_ORIGINS"].split()

    config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    config["SESSION_COOKIE_SAMESITE"] = "Lax"
    config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    # Auth pages send Referrer-Policy: no-referrer, so browsers post their forms without a
    # Referer; Flask-WTF's https-only Referer check would refuse every one. The CSRF token
    # and the SameSite=Lax cookie remain the protection.
    config.setdefault("WTF_CSRF_SSL_STRICT", False)


def _mail_settings(app: Flask) -> None:
    """Turn ``MAIL_URL`` into Flask-Mailman's settings; without it (and without the library's
    own ``MAIL_SERVER``), messages go to the console and the admin outbox."""
    config = app.config
    url = config["MAIL_URL"]
    if url:
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            port = -1
        if parts.scheme not in MAIL_SCHEMES or not parts.hostname or port == -1:
            raise ConfigError(
                "MAIL_URL must look like smtp://user:password@host:587 (STARTTLS), "
                f"smtps://…:465 (TLS) or smtp+insecure://127.0.0.1:25 (got {_hide_password(url)!r})"
            )
        if parts.scheme == "smtp+insecure" and not is_loopback(parts.hostname):
            raise ConfigError(
                "MAIL_URL: smtp+insecure:// (no TLS) is only for a relay on this machine "
                "(127.0.0.1 or localhost); use smtp:// or smtps://"
            )
        implicit_tls = parts.scheme == "smtps"
        config.update(
            MAIL_BACKEND="plugin.mail.backends.TLSEmailBackend",
            MAIL_SERVER=parts.hostname,
            MAIL_PORT=port or (465 if implicit_tls else 587),
            MAIL_USERNAME=unquote(parts.username) if parts.username else None,
            MAIL_PASSWORD=unquote(parts.password) if parts.password else None,
            MAIL_USE_SSL=implicit_tls,
            MAIL_USE_TLS=parts.scheme == "smtp",
        )
    elif config.get("MAIL_SERVER"):
        config.setdefault("MAIL_BACKEND", "plugin.mail.backends.TLSEmailBackend")
    else:
        config.setdefault("MAIL_BACKEND", "console")
    if config["MAIL_FROM"]:
        config["MAIL_DEFAULT_SENDER"] = config["MAIL_FROM"]
    else:
        config.setdefault(
            "MAIL_DEFAULT_SENDER",
            f"{config['PLUGIN_NAME_FOR_HUMAN']} <{config['PLUGIN_CONTACT_EMAIL']}>",
        )
    if config["MAIL_BACKEND"] != "console" and not config["PLUGIN_BASE_URL"]:
        # A link built from the request's Host header could point a reset link at any site.
        raise ConfigError(
            "PLUGIN_BASE_URL must be set when e-mail is sent (MAIL_URL), so that links in "
            "messages point at the public site"
        )


def _hide_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(":" + parts.password + "@", ":***@", 1)
    return url


def _database_url(app: Flask) -> str:
    url = app.config["DATABASE_URL"] or f"sqlite:///{Path(app.instance_path) / 'plugin.db'}"
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"DATABASE_URL is not a database URL: {url!r}") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            "DATABASE_URL must be a sqlite:// or postgresql+psycopg:// URL "
            f"(got {parsed.drivername!r})"
        )
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return url


def _engine_options(url: str) -> dict[str, Any]:
    # A failed statement's message then shows the SQL without its values (password hashes,
    # token digests, emails), wherever it ends up: the error log, a CLI message.
    common: dict[str, Any] = {"hide_parameters": True}
    if url.startswith("sqlite"):
        # SQLite waits for a busy writer instead of failing at once (WAL is set per connection).
        return {**common, "connect_args": {"timeout": 15}}
    return {
        **common,
        # A connection that died while idle (database restarted, failover) is noticed and
        # replaced at checkout, so workers recover without a restart: plugin/database.py
        # pings connections that sat idle, not every checkout (a round trip per request).
        "pool_pre_ping": False,
        "pool_recycle": 1800,
        # A sync worker uses one connection at a time, a gthread worker one per thread.
        "pool_size": 5,
        "max_overflow": 5,
        # Waiting longer than this for a connection answers 503 instead of piling up.
        "pool_timeout": 2,
        "connect_args": {
            "connect_timeout": 2,
            # A database host that vanishes without closing connections (no RST) is given
            # up on in seconds, not after the kernel's 15-minute retransmission timeout.
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 5,
            "keepalives_count": 3,
            "tcp_user_timeout": 5000,
        },
    }


KEY_RECIPE = "the output of: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
MIN_SECRET_KEY_LENGTH = 32
# Words of the values people copy from examples instead of generating a key, among them
# deploy/env.example's "change-me-to-the-output-of-…".
PLACEHOLDER_WORDS = ("changeme", "replaceme", "placeholder", "yoursecret", "example", "insecure")


def _secret_key(app: Flask) -> str:
    key: str | None = app.config["SECRET_KEY"]
    if key:
        weakness = None if app.testing else secret_key_weakness(key)
        if weakness:
            raise ConfigError(f"SECRET_KEY {weakness}: set it to {KEY_RECIPE}")
        return key
    key_file = Path(app.instance_path) / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    if app.debug or app.testing:
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        key_file.write_text(key)
        key_file.chmod(0o600)
        return key
    raise ConfigError(
        f"SECRET_KEY is not set: set the SECRET_KEY environment variable to {KEY_RECIPE}"
    )


def secret_key_weakness(key: str) -> str | None:
    """Say why ``key`` is no secret (a placeholder, too short, barely random), or None."""
    letters = re.sub(r"[^a-z0-9]", "", key.lower())
    if any(word in letters for word in PLACEHOLDER_WORDS):
        return "is a placeholder copied from an example"
    if len(key) < MIN_SECRET_KEY_LENGTH:
        return f"is too short ({len(key)} characters; use at least {MIN_SECRET_KEY_LENGTH})"
    if len(set(key)) < 10:
        return "is not random (it repeats a few characters)"
    return None


def text_setting(key: str) -> Callable[[], str]:
    """A function reading the current app's ``key`` setting, for options read per request
    (rate limits)."""

    def read() -> str:
        return str(current_app.config[key])

    return read
