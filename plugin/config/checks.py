"""The settings read as text made into values, and refused with one line when malformed."""

from __future__ import annotations

from flask import Config
from limits import parse_many

from plugin.config.defaults import (
    BOOL_KEYS,
    FLOAT_KEYS,
    INT_KEYS,
    LIMIT_KEYS,
    RATE_LIMIT_KEYS,
    SIGN_IN_METHODS,
)
from plugin.ratelimit_storage import SCHEME_PREFIX


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


def numbers_switches_and_rates(config: Config) -> None:
    """Turn the numbers and switches, given as text, into numbers and booleans; check rates."""
    for key in INT_KEYS:
        try:
            config[key] = int(config[key])
        except (TypeError, ValueError):
            raise ConfigError(
                f"{key} must be a whole number of seconds, got {config[key]!r}"
            ) from None
        if config[key] < 0:
            raise ConfigError(f"{key} must not be negative")
    for key in FLOAT_KEYS:
        try:
            config[key] = float(config[key])
        except (TypeError, ValueError):
            raise ConfigError(f"{key} must be a number of seconds, got {config[key]!r}") from None
        if not 0 <= config[key] <= 30:
            raise ConfigError(f"{key} must be between 0 and 30 seconds")
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


def public_origin_and_redis(config: Config) -> None:
    """Check ``PLUGIN_BASE_URL`` (and secure the cookies on https) and ``REDIS_URL``."""
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
    # plugin+redis://…: limits' Redis storage in one round trip per limit (ratelimit_storage.py).
    config["RATELIMIT_STORAGE_URI"] = f"{SCHEME_PREFIX}{redis_url}" if redis_url else "memory://"
    if redis_url:
        # A Redis that stops answering must cost a request milliseconds, not minutes: the
        # limiter then counts in process memory until Redis is back (extensions.py).
        config.setdefault(
            "RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
        )


def logging_origins_and_cookies(config: Config) -> None:
    """Check the sign-in methods and the log settings, split ``CORS_ORIGINS``, and set the
    cookie and CSRF defaults."""
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
