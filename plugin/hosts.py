"""What a host name in a URL is: the one rule for "loopback" that settings and clients share,
and the ASCII form a host is shown in."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a URL's host name, without brackets) names this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback_http(url: str | None) -> bool:
    """Whether ``url`` is plain http to a port of this machine (a desktop app's callback)."""
    parts = urlsplit(url or "")
    return parts.scheme == "http" and is_loopback(parts.hostname or "")


def ascii_host(host: str) -> str:
    """``host`` as the DNS knows it: each label that is not ASCII in punycode (``xn--…``)."""
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        # Past what IDNA 2003 accepts (a label too long, say): still never shown as letters.
        labels = host.split(".")
        return ".".join(
            label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii")
            for label in labels
        )
