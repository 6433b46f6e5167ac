"""``SECRET_KEY``: refused when weak, generated once for development."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from flask import Flask

from plugin.config.checks import ConfigError

KEY_RECIPE = "the output of: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
MIN_SECRET_KEY_LENGTH = 32
# Words of the values people copy from examples instead of generating a key, among them
# deploy/env.example's "change-me-to-the-output-of-…".
PLACEHOLDER_WORDS = ("changeme", "replaceme", "placeholder", "yoursecret", "example", "insecure")


def secret_key(app: Flask) -> str:
    """``SECRET_KEY``, the instance folder's generated key, or (in development) a new one."""
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
