"""Fetching a small JSON document from a URL someone else chose, without being used for SSRF.

https only; the host name is resolved once, every address it resolves to must be public, and
the connection goes to that very address (TLS still checks the certificate for the name), so
a DNS answer that changes between check and use cannot point us inside the network. No
redirects, a few KB at most, a few seconds at most in total.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

MAX_BYTES = 5 * 1024
TIMEOUT = 5.0  # seconds, for the whole fetch
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchError(Exception):
    """A refused or failed fetch; the message says why, for the audit log and the error page."""


@dataclass
class Fetched:
    document: dict[str, Any]
    cache_control: str


def resolve(host: str, port: int) -> list[Address]:
    """Every address ``host`` resolves to (one lookup; the caller connects to one of them)."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise FetchError(f"{host} does not resolve") from None
    addresses: list[Address] = []
    for answer in answers:
        address = ipaddress.ip_address(answer[4][0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise FetchError(f"{host} does not resolve")
    return addresses


def check_address(address: Address, *, allow_loopback: bool) -> None:
    if address.is_loopback and allow_loopback:
        return
    if not address.is_global or address.is_multicast:
        raise FetchError(f"{address} is not a public address")


def _connect(address: Address, port: int, timeout: float) -> socket.socket:
    # A socket to the literal address: nothing here resolves a name a second time.
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((str(address), port))
    except OSError:
        sock.close()
        raise
    return sock


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """An HTTPS connection to an address chosen beforehand, verifying the certificate for
    the host name."""

    def __init__(self, host: str, address: Address, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = _connect(self._address, self.port, self.timeout or TIMEOUT)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, address: Address, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = _connect(self._address, self.port, self.timeout or TIMEOUT)


def fetch_json(url: str, *, allow_loopback: bool = False) -> Fetched:
    """GET ``url`` under the rules above and return its JSON object; FetchError says why not.

    ``allow_loopback`` (development and tests) also accepts loopback addresses, and plain
    http to them.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise FetchError("the URL must be an https:// URL")
    if parts.scheme == "http" and not allow_loopback:
        raise FetchError("the URL must use https")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = resolve(host, port)
    for address in addresses:
        check_address(address, allow_loopback=allow_loopback)
    address = addresses[0]
    if parts.scheme == "http" and not address.is_loopback:
        raise FetchError("the URL must use https")
    deadline = time.monotonic() + TIMEOUT
    connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(host, address, port, TIMEOUT)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request(
            "GET", target, headers={"Accept": "application/json", "User-Agent": "oauth-server"}
        )
        response = connection.getresponse()
        if 300 <= response.status < 400:
            raise FetchError(f"the host answered with a redirect ({response.status})")
        if response.status != 200:
            raise FetchError(f"the host answered {response.status}")
        length = response.getheader("Content-Length")
        if length and length.isdigit() and int(length) > MAX_BYTES:
            raise FetchError(f"the document is larger than {MAX_BYTES} bytes")
        body = _read_limited(response, deadline)
        cache_control = response.getheader("Cache-Control") or ""
    except (OSError, http.client.HTTPException) as error:
        reason = "the host did not answer in time" if _timed_out(error) else "the fetch failed"
        raise FetchError(f"{reason} ({error.__class__.__name__})") from None
    finally:
        connection.close()
    try:
        document = json.loads(body)
    except ValueError:
        raise FetchError("the document is not JSON") from None
    if not isinstance(document, dict):
        raise FetchError("the document is not a JSON object")
    return Fetched(document, cache_control)


def _read_limited(response: http.client.HTTPResponse, deadline: float) -> bytes:
    # Read in small pieces so that a host trickling bytes still hits the overall deadline.
    body = b""
    while True:
        if time.monotonic() > deadline:
            raise FetchError("the host did not answer in time")
        chunk = response.read1(1024)
        if not chunk:
            return body
        body += chunk
        if len(body) > MAX_BYTES:
            raise FetchError(f"the document is larger than {MAX_BYTES} bytes")


def _timed_out(error: BaseException) -> bool:
    return isinstance(error, TimeoutError | socket.timeout)
