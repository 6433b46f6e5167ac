"""Clients that send half a request head cannot stall gunicorn (reached without the proxy)."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator

import pytest
import requests

SLOW_CLIENTS = 16
PARTIAL_HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
FULL_REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def read_response(sock: socket.socket) -> bytes:
    """Read one response with a Content-Length body from ``sock``."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


@pytest.fixture
def slow_clients(gunicorn_factory, server_env) -> Iterator:
    """gunicorn as shipped (2 workers, 1 thread each) and a way to open stalling sockets."""
    server = gunicorn_factory(server_env, workers=2)
    sockets: list[socket.socket] = []

    def open_slow(count: int, *, after_one_request: bool = False) -> list[socket.socket]:
        opened = []
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            if after_one_request:
                # A kept-alive connection that then starts its next request and stops.
                sock.sendall(FULL_REQUEST)
                assert b" 200 " in read_response(sock)
            sock.sendall(PARTIAL_HEAD)
            opened.append(sock)
        sockets.extend(opened)
        return opened

    yield server, open_slow
    for sock in sockets:
        sock.close()


def test_half_sent_heads_do_not_hold_the_workers(slow_clients):
    server, open_slow = slow_clients
    slow = open_slow(SLOW_CLIENTS // 2) + open_slow(SLOW_CLIENTS // 2, after_one_request=True)
    for _ in range(6):
        started = time.monotonic()
        response = requests.get(server.url + "/healthz", timeout=5)
        assert response.status_code == 200
        assert time.monotonic() - started < 1.5
        # Slowloris keeps every connection alive with a byte now and then.
        for sock in slow:
            sock.sendall(b"x")
        time.sleep(0.2)


def test_a_head_that_never_ends_is_closed_with_408(gunicorn_factory, server_env):
    server = gunicorn_factory({**server_env, "GUNICORN_HEADER_TIMEOUT": "1"}, workers=1)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(PARTIAL_HEAD)
        started = time.monotonic()
        answer = sock.recv(4096)
        # The worker's event loop looks at deadlines about once a second.
        assert time.monotonic() - started < 3.5
    assert answer.startswith(b"HTTP/1.1 408 ")


def test_a_head_sent_in_pieces_is_still_served(slow_clients):
    server, _ = slow_clients
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        for piece in (FULL_REQUEST[:10], FULL_REQUEST[10:30], FULL_REQUEST[30:]):
            sock.sendall(piece)
            time.sleep(0.1)
        assert b" 200 " in read_response(sock)
        # …and the connection stays usable for the next request.
        sock.sendall(FULL_REQUEST)
        assert b" 200 " in read_response(sock)
