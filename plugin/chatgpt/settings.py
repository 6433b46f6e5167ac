"""Operator settings kept in the database: the OpenAI verification tokens (the manifest's,
and the apps directory's domain challenge), and on/off rules such as "require passkeys for
admins" (read by the admin area).

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
# What OpenAI's app directory fetches from /.well-known/openai-apps-challenge to verify the domain.
APPS_CHALLENGE_TOKEN = "openai_apps_challenge_token"  # noqa: S105 - a key, not a secret
REQUIRE_ADMIN_PASSKEYS = "require_admin_passkeys"
# Keys an operator may set, with the config key that provides a default for each (or None).
KNOWN_SETTINGS: dict[str, str | None] = {
    VERIFICATION_TOKEN: "OPENAI_VERIFICATION_TOKEN",
    APPS_CHALLENGE_TOKEN: "OPENAI_APPS_CHALLENGE_TOKEN",
    REQUIRE_ADMIN_PASSKEYS: None,
}
# On/off settings: stored as "on", removed when off; their value is no secret.
FLAGS = frozenset({REQUIRE_ADMIN_PASSKEYS})
ON_WORDS = ("on", "true", "yes", "1")
OFF_WORDS = ("off", "false", "no", "0", "")


class SettingError(ValueError):
    """An unknown key or an unusable value; the message says which."""


def normalize_key(key: str) -> str:
    """Accept ``openai-verification-token`` as well as ``openai_verification_token``."""
    name = key.strip().lower().replace("-", "_")
    if name not in KNOWN_SETTINGS:
        known = ", ".join(k.replace("_", "-") for k in KNOWN_SETTINGS)
        raise SettingError(f"Unknown setting {key!r}; known settings: {known}.")
    return name


def default_for(key: str) -> str | None:
    """The configuration's default for ``key``, if it has one."""
    config_key = KNOWN_SETTINGS[normalize_key(key)]
    return (current_app.config.get(config_key) or None) if config_key else None


def get_setting(key: str) -> str | None:
    """The stored value, else the configuration's default, else None."""
    name = normalize_key(key)
    value = db.session.scalar(sa.select(Setting.value).where(Setting.key == name))
    if value:
        return value
    return default_for(name)


def is_on(key: str) -> bool:
    """Whether the on/off setting ``key`` is on."""
    return get_setting(key) == "on"


def _flag(name: str, value: str) -> str:
    word = value.strip().lower()
    if word in ON_WORDS:
        return "on"
    if word in OFF_WORDS:
        return ""
    raise SettingError(f"{name.replace('_', '-')} is either on or off (got {value!r}).")


def stored_settings() -> dict[str, str | None]:
    """Every known setting with its effective value."""
    return {name: get_setting(name) for name in KNOWN_SETTINGS}


def set_setting(key: str, value: str | None, *, actor: object = None) -> str | None:
    """Store ``value`` (empty or None removes it, as does "off" for an on/off setting) and
    return what is stored; audit the change, without the value unless it is on/off."""
    name = normalize_key(key)
    value = _flag(name, value or "") if name in FLAGS else (value or "").strip()
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
    shown = {"value": value or "off"} if name in FLAGS else {}
    record("settings.changed", actor=actor, subject=f"setting:{name}", cleared=not value, **shown)
    db.session.flush()
    return value or None
