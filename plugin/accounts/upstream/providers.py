"""Upstream providers from configuration: one ``UPSTREAM_<NAME>_…`` variable set each.

``UPSTREAM_PROVIDERS`` names them (``google corp``); each is a preset (google, microsoft,
apple, github) or any OpenID Connect issuer by its discovery URL. A bad setting raises
ConfigError naming the variable, which stops start-up in one line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from plugin.config import ConfigError
from plugin.hosts import is_loopback

PRESETS = ("oidc", "google", "microsoft", "apple", "github")
NAME = re.compile(r"^[a-z][a-z0-9]{0,31}$")
DOMAIN = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")
TENANT = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

LABELS = {"google": "Google", "microsoft": "Microsoft", "apple": "Apple", "github": "GitHub"}
SCOPES = {"github": "read:user user:email", "apple": "openid email"}
DISCOVERY = {
    "google": "https://accounts.google.com/.well-known/openid-configuration",
    "apple": "https://appleid.apple.com/.well-known/openid-configuration",
    # {tenant}: "common" (any work, school or personal account) unless one tenant is set.
    "microsoft": "https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration",
}
GITHUB_WEB = "https://github.com"
GITHUB_API = "https://api.github.com"


@dataclass(frozen=True)
class Provider:
    """One configured provider, as the login page and the sign-in flow use it."""

    name: str
    preset: str
    label: str
    client_id: str
    client_secret: str | None
    discovery_url: str | None
    scope: str
    allowed_domains: tuple[str, ...] = ()
    tenants: tuple[str, ...] = ()
    # Apple: the client secret is a JWT signed with this key (App Store Connect's .p8 file).
    team_id: str | None = None
    key_id: str | None = None
    private_key: str | None = None
    # GitHub (or GitHub Enterprise): the web and API origins.
    web_url: str = GITHUB_WEB
    api_url: str = GITHUB_API

    @property
    def is_openid(self) -> bool:
        return self.preset != "github"

    def describe(self) -> dict[str, Any]:
        """What Admin → Settings shows: everything but secrets."""
        return {
            "name": self.name,
            "kind": self.preset,
            "label": self.label,
            "client_id": self.client_id,
            "discovery_url": self.discovery_url or f"{self.web_url} (OAuth 2)",
            "allowed_domains": " ".join(self.allowed_domains) or "any",
            "tenants": " ".join(self.tenants) or ("any" if self.preset == "microsoft" else "—"),
        }


def _url(variable: str, value: str) -> str:
    parts = urlsplit(value)
    secure = parts.scheme == "https" or (
        parts.scheme == "http" and is_loopback(parts.hostname or "")
    )
    if not parts.hostname or not secure:
        raise ConfigError(
            f"{variable} must be an https URL (http only on 127.0.0.1 or localhost), got {value!r}"
        )
    return value.rstrip("/")


def _words(config: Mapping[str, Any], variable: str, pattern: re.Pattern[str]) -> tuple[str, ...]:
    words = tuple(str(config.get(variable) or "").lower().replace(",", " ").split())
    for word in words:
        if not pattern.match(word):
            raise ConfigError(f"{variable}: {word!r} is not a valid value")
    return words


def load_provider(config: Mapping[str, Any], name: str) -> Provider:
    """Read provider ``name``'s variables from ``config``; ConfigError names a bad one."""
    prefix = f"UPSTREAM_{name.upper()}_"

    def get(key: str) -> str | None:
        value = config.get(prefix + key)
        return str(value).strip() if value not in (None, "") else None

    def need(key: str) -> str:
        value = get(key)
        if value is None:
            raise ConfigError(f"{prefix}{key} must be set for the upstream provider {name!r}")
        return value

    preset = (get("PRESET") or (name if name in PRESETS else "oidc")).lower()
    if preset not in PRESETS:
        raise ConfigError(f"{prefix}PRESET must be one of {', '.join(PRESETS)}, got {preset!r}")
    tenants = _words(config, prefix + "TENANTS", TENANT)
    if tenants and preset != "microsoft":
        raise ConfigError(f"{prefix}TENANTS applies to the microsoft preset only")
    values: dict[str, Any] = {
        "name": name,
        "preset": preset,
        "label": get("LABEL") or LABELS.get(preset, name.capitalize()),
        "client_id": need("CLIENT_ID"),
        "client_secret": get("CLIENT_SECRET"),
        "scope": get("SCOPE") or SCOPES.get(preset, "openid email profile"),
        "allowed_domains": _words(config, prefix + "ALLOWED_DOMAINS", DOMAIN),
        "tenants": tenants,
    }
    if preset == "github":
        values["discovery_url"] = None
        values["web_url"] = _url(prefix + "WEB_URL", get("WEB_URL") or GITHUB_WEB)
        values["api_url"] = _url(prefix + "API_URL", get("API_URL") or GITHUB_API)
    else:
        default = DISCOVERY.get(preset, "").format(
            tenant=tenants[0] if len(tenants) == 1 else "common"
        )
        discovery = get("DISCOVERY_URL") or default or need("DISCOVERY_URL")
        values["discovery_url"] = _url(prefix + "DISCOVERY_URL", discovery)
    if preset == "apple":
        values["team_id"] = need("TEAM_ID")
        values["key_id"] = need("KEY_ID")
        values["private_key"] = _key_file(prefix + "PRIVATE_KEY_FILE", need("PRIVATE_KEY_FILE"))
    elif values["client_secret"] is None:
        need("CLIENT_SECRET")
    return Provider(**values)


def _key_file(variable: str, path: str) -> str:
    try:
        text = Path(path).read_text()
    except OSError as error:
        raise ConfigError(f"{variable}: cannot read {path} ({error.strerror})") from None
    if "PRIVATE KEY" not in text:
        raise ConfigError(f"{variable}: {path} holds no PEM private key (Apple's .p8 file)")
    return text


def label_of(providers: Mapping[str, Provider], name: str) -> str:
    """What people call provider ``name``: its label, or its name once it is no longer set."""
    provider = providers.get(name)
    return provider.label if provider is not None else LABELS.get(name, name.capitalize())


def load_providers(config: Mapping[str, Any]) -> dict[str, Provider]:
    """Every provider ``UPSTREAM_PROVIDERS`` names, in its order."""
    names = str(config.get("UPSTREAM_PROVIDERS") or "").lower().replace(",", " ").split()
    providers: dict[str, Provider] = {}
    for name in names:
        if not NAME.match(name) or name == "link":
            raise ConfigError(
                f"UPSTREAM_PROVIDERS: {name!r} is not a name (a letter, then letters or digits)"
            )
        if name in providers:
            raise ConfigError(f"UPSTREAM_PROVIDERS names {name!r} twice")
        providers[name] = load_provider(config, name)
    return providers
