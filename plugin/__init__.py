"""The application factory: an OAuth 2 authorization server and a ChatGPT plugin in one app."""

from __future__ import annotations

import sys
from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import Any

from flask import Flask

from plugin.config import ConfigError, instance_path, load_config

ROOT = Path(__file__).resolve().parent.parent

# The built-in features under plugin/, lowest layer first (admin, above them all, comes last).
FEATURES = (
    "connections",
    "policies",
    "accounts",
    "oauth",
    "chatgpt",
    "confirmations",
    "todos",
    "mcp",
)
# Your own features, folders under plugin/ shaped like todos/: add a name here, e.g. ("notes",).
EXTRA_FEATURES: tuple[str, ...] = ()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints, error handlers, commands."""
    from plugin.web import App

    app = App(
        __name__,
        instance_relative_config=True,
        instance_path=instance_path(),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    try:
        load_config(app, config)
        register_extensions(app)
        # A feature reads its own settings as it is set up (upstream sign-in providers).
        register_blueprints(app)
    except ConfigError as error:
        # One clear line instead of a traceback, for `flask`, gunicorn and wsgi alike.
        sys.exit(f"Configuration error: {error}")
    register_errorhandlers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from plugin import database, inputs, logs, web
    from plugin.extensions import csrf, db, limiter, mail, migrate

    # First: the body and text checks apply before anything else reads the request.
    inputs.init_app(app)
    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    # Before the limiter: after_request hooks run last-registered first, so this one sees
    # the headers the limiter adds.
    app.after_request(web.retry_after_only_on_refusals)
    limiter.init_app(app)
    mail.init_app(app)
    web.init_app(app)
    logs.init_app(app)


def register_blueprints(app: Flask) -> None:
    """Let each feature add its blueprints, scopes, paths and hooks, lowest layer first."""
    from plugin import health

    app.register_blueprint(health.bp)
    for name in (*FEATURES, *EXTRA_FEATURES, "admin"):
        _feature(name).init_app(app)


def _feature(name: str) -> ModuleType:
    try:
        module = import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as error:
        if error.name != f"{__name__}.{name}":
            raise  # the feature exists; something it imports does not
        sys.exit(f"Configuration error: feature {name!r} has no folder plugin/{name}/")
    if not callable(getattr(module, "init_app", None)):
        sys.exit(f"Configuration error: feature {name!r} has no init_app(app)")
    return module


def register_errorhandlers(app: Flask) -> None:
    from plugin import errors

    errors.init_app(app)


def register_commands(app: Flask) -> None:
    from flask_migrate import cli as migrate_cli

    from plugin import devserver
    from plugin.accounts import cli as accounts_cli
    from plugin.audit import cli as audit_cli
    from plugin.chatgpt import cli as chatgpt_cli
    from plugin.cli_errors import friendly_database_errors
    from plugin.connections import cli as connections_cli
    from plugin.oauth import cli as oauth_cli

    for command in (
        accounts_cli.users,
        oauth_cli.clients,
        audit_cli.audit,
        connections_cli.connections,
        chatgpt_cli.settings,
        chatgpt_cli.check,
    ):
        friendly_database_errors(command)
        app.cli.add_command(command)
    friendly_database_errors(devserver.dev, creates_database=True)
    app.cli.add_command(devserver.dev)
    # Flask-Migrate adds its own `db` group to app.cli (in migrate.init_app).
    friendly_database_errors(migrate_cli.db, creates_database=True)
