"""What an operator types into ChatGPT or Claude for a client, by the client's kind."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from plugin.api.urls import base_url, external_url
from plugin.hosts import is_loopback
from plugin.oauth.models import OAuthClient
from plugin.oauth.resources.audiences import MCP_PATH

TITLES = {
    "gpt-action": "Set up in ChatGPT (GPT Action)",
    "plugin": "Set up in ChatGPT (plugin)",
    "connector": "Set up in ChatGPT or Claude (app or connector)",
}


@dataclass
class Setup:
    kind: str
    # (label, value); every value gets a copy button.
    values: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return TITLES[self.kind]


def client_setup_kind(client: OAuthClient) -> str:
    """``connector`` (MCP: ChatGPT app, Claude), ``plugin`` or ``gpt-action``."""
    if client.is_public or not client.is_registered_by_hand:
        return "connector"
    if any("/aip/plugin-" in uri for uri in client.redirect_uris):
        return "plugin"
    return "gpt-action"


def base_url_warnings(base: str) -> list[str]:
    parts = urlsplit(base)
    warnings = []
    if parts.scheme != "https":
        warnings.append(
            f"The base URL is {base}: ChatGPT and Claude reach only public https hosts. Set "
            "PLUGIN_BASE_URL to the public https origin (behind a proxy, also PROXY_FIX_HOPS)."
        )
    if is_loopback(parts.hostname or ""):
        warnings.append(
            f"{parts.hostname} is this machine: ChatGPT and Claude cannot reach it. Use the "
            "host name people reach the server by."
        )
    return warnings


def client_setup(client: OAuthClient) -> Setup:
    """The values to paste for ``client`` (never its secret), with warnings about the base URL."""
    kind = client_setup_kind(client)
    setup = Setup(kind, warnings=base_url_warnings(base_url()))
    if kind == "connector":
        setup.values.append(("MCP server URL", base_url() + MCP_PATH))
        return setup
    setup.values += [
        ("Client ID", client.client_id),
        ("Authorization URL", external_url("oauth.authorize")),
        ("Token URL", external_url("oauth.issue_token")),
        ("Scope", client.scope),
    ]
    if kind == "plugin":
        setup.values.append(("Manifest URL", base_url() + "/.well-known/ai-plugin.json"))
    return setup
