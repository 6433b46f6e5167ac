"""What the consent page says about where a client came from and where it sends people,
and when it must be shown although the person allowed the client before."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from plugin.hosts import ascii_host, is_loopback, is_loopback_http
from plugin.oauth.clients.known_apps import known_app_at
from plugin.oauth.models import OAuthClient
from plugin.text import scripts_of


@dataclass(frozen=True)
class ClientOrigin:
    """The facts a person needs before trusting a client nobody registered by hand."""

    redirect_host: str  # in ASCII (punycode): "chаtgpt.com" cannot pass for "chatgpt.com"
    redirect_port: int | None
    reviewed: bool
    loopback_only: bool
    mixed_scripts: bool  # the host's letters come from more than one alphabet


def describe_origin(client: OAuthClient, redirect_uri: str | None) -> ClientOrigin:
    parts = urlsplit(redirect_uri or "")
    host = (parts.hostname or "").lower()
    hosts = {(urlsplit(uri).hostname or "").lower() for uri in client.redirect_uris}
    return ClientOrigin(
        redirect_host=ascii_host(host),
        redirect_port=_port(redirect_uri),
        # A name anyone can claim in a registration proves nothing, and neither does a host
        # (any path on it may forward); a known app's exact callback does (OA-32).
        reviewed=client.is_registered_by_hand or known_app_at(redirect_uri) is not None,
        loopback_only=bool(hosts) and all(is_loopback(name) for name in hosts),
        mixed_scripts=len(scripts_of(host)) > 1,
    )


def _port(uri: str | None) -> int | None:
    try:
        return urlsplit(uri or "").port
    except ValueError:
        return None


def asks_every_time(redirect_uri: str | None) -> bool:
    """Whether a code for ``redirect_uri`` needs a page the person saw in this request.

    RFC 8252 §8.6: any program on the computer can listen on a loopback port and start a
    request with the client id of an app the person allowed before, so an earlier consent
    proves nothing about who asks now (a desktop app's secret is no secret either). The
    code then leaves only through the consent form, whose policy names the loopback origin:
    no other page's ``form-action`` ever has to allow the redirect.
    """
    return is_loopback_http(redirect_uri)
