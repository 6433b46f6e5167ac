"""Fetching a small JSON document from a URL someone else chose, without being used for SSRF.

https only; the host name is resolved once, every address it resolves to must be outside the
IANA special-purpose registries, and the connection goes to that very address (TLS still
checks the certificate for the name), so a DNS answer that changes between check and use
cannot point us inside the network. No redirects, a few KB at most, and one deadline over the
whole fetch: resolution, connection, TLS, the status line, the headers and the body. A host
that sends a byte now and then is cut off at the deadline like one that sends nothing.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from plugin.oauth.clients.addresses import Address, is_special_purpose, resolve_within

MAX_BYTES = 5 * 1024
TIMEOUT = 5.0  # seconds, for the whole fetch
NOT_ALLOWED = "its host is not allowed"
LATE = "the host did not answer in time"


class FetchError(Exception):
    """A refused or failed fetch. The message is for anyone (the error page); ``detail`` is
    for the operator (audit log, connection trace) and may name addresses."""

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail or message


@dataclass
class Fetched:
    document: dict[str, Any]
    cache_control: str


def resolve(host: str, port: int, timeout: float = TIMEOUT) -> list[Address]:
    """Every address ``host`` resolves to within ``timeout`` seconds (one lookup)."""
    try:
        addresses = resolve_within(host, port, timeout)
    except TimeoutError:
        raise FetchError(LATE, f"resolving {host} took longer than {timeout:.1f}s") from None
    except (OSError, UnicodeError, ValueError):
        raise FetchError(NOT_ALLOWED, f"{host} does not resolve") from None
    if not addresses:
        raise FetchError(NOT_ALLOWED, f"{host} does not resolve")
    return addresses


def check_address(address: Address, *, allow_loopback: bool) -> None:
    """Refuse an address that is not an ordinary public one (the detail names it)."""
    if address.is_loopback and allow_loopback:
        return
    if is_special_purpose(address):
        raise FetchError(NOT_ALLOWED, f"{address} is not a public address")


class _Deadline:
    """Shuts the connection's socket down when the time is up, whatever read is waiting."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self.passed = False
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._cut)
        self._timer.daemon = True
        self._timer.start()

    def left(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._socket = sock
            if self.passed:
                self._shutdown()

    def _cut(self) -> None:
        with self._lock:
            self.passed = True
            self._shutdown()

    def _shutdown(self) -> None:
        if self._socket is None:
            return
        try:
            # The plain socket's shutdown, even on a TLS socket: it wakes a blocked read
            # without touching the TLS state another thread is using.
            socket.socket.shutdown(self._socket, socket.SHUT_RDWR)
        except OSError:
            pass

    def cancel(self) -> None:
        self._timer.cancel()


def _connect(address: Address, port: int, deadline: _Deadline) -> socket.socket:
    # A socket to the literal address: nothing here resolves a name a second time.
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(deadline.left())
    try:
        sock.connect((str(address), port))
    except OSError:
        sock.close()
        raise
    deadline.watch(sock)
    return sock


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """An HTTPS connection to an address chosen beforehand, verifying the certificate for
    the host name."""

    def __init__(self, host: str, address: Address, port: int, deadline: _Deadline) -> None:
        super().__init__(host, port, timeout=deadline.left(), context=ssl.create_default_context())
        self._address = address
        self._deadline = deadline

    def connect(self) -> None:
        sock = _connect(self._address, self.port, self._deadline)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]
        self._deadline.watch(self.sock)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, address: Address, port: int, deadline: _Deadline) -> None:
        super().__init__(host, port, timeout=deadline.left())
        self._address = address
        self._deadline = deadline

    def connect(self) -> None:
        self.sock = _connect(self._address, self.port, self._deadline)


def fetch_json(url: str, *, allow_loopback: bool = False, timeout: float = 0.0) -> Fetched:
    """GET ``url`` under the rules above and return its JSON object; FetchError says why not.

    ``allow_loopback`` (development and tests) also accepts loopback addresses, and plain
    http to them. ``timeout`` (default ``TIMEOUT``) bounds the whole fetch.
    """
    started = time.monotonic()
    seconds = timeout or TIMEOUT
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise FetchError("the URL must be an https:// URL")
    if parts.scheme == "http" and not allow_loopback:
        raise FetchError("the URL must use https")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = resolve(host, port, seconds)
    for address in addresses:
        check_address(address, allow_loopback=allow_loopback)
    address = addresses[0]
    if parts.scheme == "http" and not address.is_loopback:
        raise FetchError("the URL must use https")
    deadline = _Deadline(max(0.0, seconds - (time.monotonic() - started)))
    try:
        return _get(parts.scheme, host, address, port, parts, deadline)
    finally:
        deadline.cancel()


def _get(
    scheme: str, host: str, address: Address, port: int, parts: Any, deadline: _Deadline
) -> Fetched:
    connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(host, address, port, deadline)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    response: http.client.HTTPResponse | None = None
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
        body = _read_limited(response)
        cache_control = response.getheader("Cache-Control") or ""
    except (OSError, http.client.HTTPException) as error:
        if deadline.passed or _timed_out(error):
            raise FetchError(LATE, f"{LATE} ({error.__class__.__name__})") from None
        raise FetchError(f"the fetch failed ({error.__class__.__name__})") from None
    finally:
        # The response holds the socket open after the connection lets go of it.
        if response is not None:
            response.close()
        connection.close()
    if deadline.passed:
        # The socket was cut mid-answer: what arrived is not the document.
        raise FetchError(LATE)
    try:
        document = json.loads(body)
    except ValueError:
        raise FetchError("the document is not JSON") from None
    if not isinstance(document, dict):
        raise FetchError("the document is not a JSON object")
    return Fetched(document, cache_control)


def _read_limited(response: http.client.HTTPResponse) -> bytes:
    body = b""
    while True:
        chunk = response.read1(1024)
        if not chunk:
            return body
        body += chunk
        if len(body) > MAX_BYTES:
            raise FetchError(f"the document is larger than {MAX_BYTES} bytes")


def _timed_out(error: BaseException) -> bool:
    return isinstance(error, TimeoutError | socket.timeout)
