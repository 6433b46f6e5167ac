"""``MAIL_URL`` and ``MAIL_FROM`` made into Flask-Mailman's settings."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from flask import Flask

from plugin.config.checks import ConfigError
from plugin.hosts import is_loopback

MAIL_SCHEMES = ("smtp", "smtps", "smtp+insecure")


def mail_settings(app: Flask) -> None:
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
