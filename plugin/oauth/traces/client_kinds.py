"""Which kind of client a fix speaks to, read from where its callbacks go.

A fix that says "paste the secret into the GPT's OAuth settings" helps only a GPT Action;
Claude's connector, a desktop app and any other client keep their credentials elsewhere and
reach the server from elsewhere.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from plugin.hosts import is_loopback_http
from plugin.oauth.models import OAuthClient

CHATGPT_HOSTS = frozenset({"chatgpt.com", "chat.openai.com"})
CLAUDE_HOSTS = frozenset({"claude.ai", "claude.com"})


def client_family(client: OAuthClient | None) -> str:
    """``chatgpt``, ``claude``, ``desktop`` (loopback callbacks) or ``other``."""
    if client is None:
        return "other"
    uris = [*client.redirect_uris, client.client_id]
    hosts = {urlsplit(uri).hostname for uri in uris if "://" in uri}
    if hosts & CHATGPT_HOSTS:
        return "chatgpt"
    if hosts & CLAUDE_HOSTS:
        return "claude"
    if client.redirect_uris and all(is_loopback_http(uri) for uri in client.redirect_uris):
        return "desktop"
    return "other"


def credentials_home(client: OAuthClient | None) -> str:
    """Where the person setting the client up typed its client ID and secret."""
    family = client_family(client)
    if family == "chatgpt":
        return "the GPT's OAuth settings in ChatGPT"
    if family == "claude":
        return "the connector's Advanced settings in Claude (OAuth Client ID and Secret)"
    if client is None:
        return "the client's OAuth settings (for a GPT Action: the GPT's OAuth settings)"
    if family == "desktop":
        return f"{client.name}'s own configuration on the person's computer"
    return f"{client.name}'s OAuth settings"


def reconnect_from(client: OAuthClient | None) -> str:
    """Where the person starts a new grant."""
    family = client_family(client)
    if family == "chatgpt":
        return "The person reconnects from ChatGPT to start a new grant."
    if family == "claude":
        return "The person reconnects the connector in Claude to start a new grant."
    if client is None:
        return "The person reconnects from the app they use to start a new grant."
    return f"The person reconnects from {client.name} to start a new grant."


def if_no_call_arrives(client: OAuthClient, resource: str | None) -> str:
    """What to check when tokens were issued but no call ever used them."""
    where = urlsplit(resource).path if resource else "/api"
    family = client_family(client)
    if family in ("chatgpt", "claude"):
        agent, company = (
            ("ChatGPT-User", "OpenAI") if family == "chatgpt" else ("Claude-User", "Anthropic")
        )
        return (
            f"{client.name} calls {where} from {company}'s servers with the user agent {agent}: "
            "let that user agent (and its published IP ranges) through the proxy, CDN or "
            "firewall in front of this server; bot protection often blocks it."
        )
    if family == "desktop":
        return (
            f"{client.name} runs on the person's computer and calls {where} from there: check "
            "that the computer reaches this server (VPN, company proxy) and that the app kept "
            "running after the sign-in."
        )
    return (
        f"{client.name} calls {where} from its own servers: check that the proxy, CDN or "
        "firewall in front of this server lets it through (ChatGPT sends the user agent "
        "ChatGPT-User, Claude sends Claude-User)."
    )
