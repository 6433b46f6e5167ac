"""Which addresses an outbound fetch may connect to, and a name lookup with a deadline.

An address is refused when it lies in a block of the IANA special-purpose address registries
(IPv4 and IPv6, as of 2025), in a deprecated block that still routes somewhere unexpected
(site-local ``fec0::/10``, IPv4-compatible ``::a.b.c.d``), in multicast, or anywhere Python
does not call global. Python's ``is_global`` alone let the translation and tunnelling prefixes
through (``64:ff9b::/96``, ``2002::/16``), which lead to an IPv4 address of the prefix's
choosing.
"""

from __future__ import annotations

import ipaddress
import socket
import threading

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# https://www.iana.org/assignments/iana-ipv4-special-registry/
SPECIAL_IPV4 = tuple(
    ipaddress.IPv4Network(block)
    for block in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.31.196.0/24",
        "192.52.193.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "192.175.48.0/24",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast (its own registry)
        "240.0.0.0/4",
        "255.255.255.255/32",
    )
)
# https://www.iana.org/assignments/iana-ipv6-special-registry/
SPECIAL_IPV6 = tuple(
    ipaddress.IPv6Network(block)
    for block in (
        "::/96",  # the unspecified and loopback addresses, and deprecated IPv4-compatible ones
        "::ffff:0:0/96",
        "64:ff9b::/96",
        "64:ff9b:1::/48",
        "100::/64",
        "100:0:0:1::/64",
        "2001::/23",
        "2001:db8::/32",
        "2002::/16",
        "2620:4f:8000::/48",
        "3fff::/20",
        "5f00::/16",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",  # site-local, deprecated (RFC 3879)
        "ff00::/8",  # multicast (its own registry)
    )
)


def is_special_purpose(address: Address) -> bool:
    """Tell whether ``address`` is anything but an ordinary public unicast address."""
    blocks = SPECIAL_IPV4 if address.version == 4 else SPECIAL_IPV6
    return any(address in block for block in blocks) or not address.is_global


def _unmapped(address: Address) -> Address:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def resolve_within(host: str, port: int, timeout: float) -> list[Address]:
    """Every address ``host`` resolves to, or TimeoutError after ``timeout`` seconds.

    The system resolver cannot be interrupted: a late lookup finishes in its own daemon
    thread (bounded by the resolver's own timeouts) while the caller goes on.
    """
    answers: list[list[Address]] = []
    failures: list[BaseException] = []

    def lookup() -> None:
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            addresses: list[Address] = []
            for answer in found:
                address = _unmapped(ipaddress.ip_address(answer[4][0]))
                if address not in addresses:
                    addresses.append(address)
            answers.append(addresses)
        except (OSError, UnicodeError, ValueError) as error:
            failures.append(error)

    worker = threading.Thread(target=lookup, name="resolve", daemon=True)
    worker.start()
    worker.join(timeout)
    if failures:
        raise failures[0]
    if not answers:
        raise TimeoutError(f"resolving {host} took longer than {timeout}s")
    return answers[0]
