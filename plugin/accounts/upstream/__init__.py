"""Signing in with an account people already have: upstream OpenID Connect and OAuth
providers (Google, Microsoft, Apple, GitHub, any issuer by discovery URL).

Configured by ``UPSTREAM_PROVIDERS`` and one ``UPSTREAM_<NAME>_…`` variable set each
(``providers``); ``SIGN_IN_METHODS`` says whether local sign-in (passwords, passkeys),
upstream sign-in or both are offered. The views: ``signin_views`` (start, come back),
``link_views`` (link to an existing account, unlink), sharing ``view_helpers``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue

from plugin.accounts.forms import ConfirmForm
from plugin.accounts.hooks import add_account_panel, add_exporter
from plugin.accounts.models import User
from plugin.accounts.reauth import reauthentication_for
from plugin.accounts.upstream import (  # noqa: F401 - signin_views adds routes
    identities,
    link_views,
    signin_views,
    view_helpers,
)
from plugin.accounts.upstream.client import configured_providers, init_client
from plugin.accounts.upstream.providers import label_of, load_providers
from plugin.accounts.view_helpers import next_target
from plugin.config import ConfigError

# The pages and form posts of local sign-in, closed when SIGN_IN_METHODS is upstream.
LOCAL_ENDPOINTS = (
    "accounts.login",
    "accounts.signup",
    "passkeys.login_options",
    "passkeys.login_with_passkey",
    "passkeys.signup_options",
    "passkeys.signup_with_passkey",
    "account_recovery.forgot_password",
)
UPSTREAM_ONLY = "Sign-in here is only with the accounts listed on the login page."


def init_app(app: Flask) -> None:
    providers = load_providers(app.config)
    if app.config["SIGN_IN_METHODS"] == "upstream" and not providers:
        raise ConfigError("SIGN_IN_METHODS is upstream but UPSTREAM_PROVIDERS names none")
    init_client(app, providers)
    app.register_blueprint(view_helpers.bp)
    app.context_processor(_template_values)
    # First of all request hooks: before the CSRF check, whose refusal shows the login form.
    app.before_request_funcs.setdefault(None, []).insert(0, _upstream_only)
    add_account_panel(app, _panel)
    add_exporter(app, "upstream_identities", identities.export_identities)


def _offered() -> list[Any]:
    if current_app.config["SIGN_IN_METHODS"] == "local":
        return []
    return list(configured_providers().values())


def _template_values() -> dict[str, Any]:
    return {
        "upstream_providers": _offered(),
        "local_sign_in": current_app.config["SIGN_IN_METHODS"] != "upstream",
    }


def _upstream_only() -> ResponseReturnValue | None:
    if current_app.config["SIGN_IN_METHODS"] != "upstream":
        return None
    if request.endpoint not in LOCAL_ENDPOINTS:
        return None
    if request.method == "GET" and request.endpoint in ("accounts.login", "accounts.signup"):
        return render_template("accounts/upstream_only.html", next=next_target())
    return render_template("errors/error.html", status=403, message=UPSTREAM_ONLY), 403


def _panel(user: User) -> str:
    rows = identities.list_identities(user)
    configured = configured_providers()
    offered = _offered()
    return render_template(
        "accounts/_upstream_identities.html",
        identities=[(row, label_of(configured, row.provider)) for row in rows],
        providers=[(provider, link_views.link_form(provider.name)) for provider in offered],
        reauth=reauthentication_for(user, url_for("accounts.account")),
        form=ConfirmForm(),
    )
