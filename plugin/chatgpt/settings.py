"""Operator settings kept in the database, such as the OpenAI verification token.

Services flush; the command or view that calls them commits.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from plugin.audit.services import record
from plugin.chatgpt.models import Setting
from plugin.extensions import db
from plugin.text import text_problem

VERIFICATION_TOKEN = "openai_verification_token"  # noqa: S105 - a key, not a secret
# Keys an operator may set, with the config key that provides a default for each.
KNOWN_SETTINGS: dict[str, str] = {VERIFICATION_TOKEN: "OPENAI_VERIFICATION_TOKEN"}


class SettingError(ValueError):
    """An unknown key or an unusable value; the message says which."""


def normalize_key(key: str) -> str:
    """Accept ``openai-verification-token`` as well as ``openai_verification_token``."""
    name = key.strip().lower().replace("-", "_")
    if name not in KNOWN_SETTINGS:
        known = ", ".join(k.replace("_", "-") for k in KNOWN_SETTINGS)
        raise SettingError(f"Unknown setting {key!r}; known settings: {known}.")
    return name


def get_setting(key: str) -> str | None:
    """The stored value, else the configuration's default, else None."""
    name = normalize_key(key)
    value = db.session.scalar(sa.select(Setting.value).where(Setting.key == name))
    if value:
        return value
    return current_app.config.get(KNOWN_SETTINGS[name]) or None


def stored_settings() -> dict[str, str | None]:
    """Every known setting with its effective value."""
    return {name: get_setting(name) for name in KNOWN_SETTINGS}


def set_setting(key: str, value: str | None, *, actor: object = None) -> None:
    """Store ``value`` (empty or None removes it); audit the change without the value."""
    name = normalize_key(key)
    value = (value or "").strip()
    if len(value) > 2000 or text_problem(value):
        raise SettingError("The value must be one line of at most 2,000 characters.")
    row = db.session.get(Setting, name)
    if not value:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(Setting(key=name, value=value))
    else:
        row.value = value
    record("settings.changed", actor=actor, subject=f"setting:{name}", cleared=not value)
    db.session.flush()
