"""What features above accounts add to its pages, registered per app.

The account page shows a panel per feature (the OAuth feature adds "Connected apps"), the
login and sign-up pages name where a pending ``next`` path leads ("continue to ChatGPT"),
"Download my data" holds a section per feature, and a feature may refuse changes to a
person's passkeys (the admin area's "require passkeys"), without accounts importing any of
them.
(Deleting an account is the ``user_deleting`` signal of ``plugin.accounts.lifecycle``.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app

from plugin.accounts.models import User

AccountPanel = Callable[[User], str]
DestinationNamer = Callable[[str], str | None]
Exporter = Callable[[User], Any]
PasskeyRule = Callable[[User], str | None]
PANELS = "plugin.accounts.panels"
NAMERS = "plugin.accounts.destination_namers"
EXPORTERS = "plugin.accounts.exporters"
PASSKEY_RULES = "plugin.accounts.passkey_rules"


def add_account_panel(app: Flask, panel: AccountPanel) -> None:
    """Show ``panel(user)``, rendered HTML, as a section of the account page."""
    app.extensions.setdefault(PANELS, []).append(panel)


def add_destination_namer(app: Flask, namer: DestinationNamer) -> None:
    """Let ``namer(next_path)`` say what a login is on its way to, or None if not its path."""
    app.extensions.setdefault(NAMERS, []).append(namer)


def add_exporter(app: Flask, name: str, exporter: Exporter) -> None:
    """Add a section ``name`` to "Download my data": ``exporter(user)``, JSON-able data."""
    app.extensions.setdefault(EXPORTERS, {})[name] = exporter


def add_passkey_rule(app: Flask, rule: PasskeyRule) -> None:
    """Let ``rule(user)`` refuse adding or removing a passkey now: the refusal in words, or
    None to allow it."""
    app.extensions.setdefault(PASSKEY_RULES, []).append(rule)


def passkey_refusal(user: User) -> str | None:
    """Why ``user`` may not add or remove a passkey now, if a feature says so."""
    rules: list[PasskeyRule] = current_app.extensions.get(PASSKEY_RULES, [])
    return next((refusal for rule in rules if (refusal := rule(user))), None)


def exported_sections(user: User) -> dict[str, Any]:
    """Every feature's part of ``user``'s data download."""
    exporters: dict[str, Exporter] = current_app.extensions.get(EXPORTERS, {})
    return {name: exporter(user) for name, exporter in exporters.items()}


def account_panels(user: User) -> list[str]:
    """Every feature's section of ``user``'s account page, rendered."""
    panels: list[AccountPanel] = current_app.extensions.get(PANELS, [])
    return [panel(user) for panel in panels]


def name_destination(next_target: str | None) -> str | None:
    """What the pending ``next`` path leads to, in words, if a feature knows it."""
    if not next_target:
        return None
    namers: list[DestinationNamer] = current_app.extensions.get(NAMERS, [])
    return next((name for namer in namers if (name := namer(next_target))), None)
