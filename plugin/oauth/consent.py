"""What the consent page says about where a client came from and where it sends people."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from plugin.hosts import is_loopback
from plugin.oauth.metadata_documents import KNOWN_REDIRECT_HOSTS
from plugin.oauth.models import OAuthClient


@dataclass(frozen=True)
class ClientOrigin:
    """The facts a person needs before trusting a client nobody registered by hand."""

    redirect_host: str
    reviewed: bool
    loopback_only: bool


def describe_origin(client: OAuthClient, redirect_uri: str | None) -> ClientOrigin:
    host = (urlsplit(redirect_uri or "").hostname or "").lower()
    hosts = {(urlsplit(uri).hostname or "").lower() for uri in client.redirect_uris}
    return ClientOrigin(
        redirect_host=host,
        # A name anyone can claim in a registration proves nothing; a known host does.
        reviewed=client.is_registered_by_hand or host in KNOWN_REDIRECT_HOSTS,
        loopback_only=bool(hosts) and all(is_loopback(name) for name in hosts),
    )
