"""IN-01 under gunicorn: a body over the limit, declared or chunked, is a 413 in the route's format.

gunicorn itself limits only the request line and headers; the body limit is the app's.
"""

from __future__ import annotations

import socket

import pytest
import requests

LIMIT = 1_048_576
PIECE = b"x" * 65_536


@pytest.fixture
def server(live_server):
    """Each test only sends a body that is refused before anything is read or written."""
    return live_server


def pieces(total: int):
    """A body requests sends chunked, since it cannot know its length."""
    sent = 0
    while sent < total:
        yield PIECE
        sent += len(PIECE)


def test_in01_a_declared_body_over_the_limit_gets_the_json_envelope(server):
    response = requests.post(
        server.url + "/oauth/token",
        data=b"{" + b" " * LIMIT + b"}",
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 413
    assert response.json()["error"] == "request_too_large"


def test_in01_a_chunked_body_over_the_limit_gets_the_json_envelope(server):
    response = requests.post(
        server.url + "/oauth/token",
        data=pieces(2 * LIMIT),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.request.headers["Transfer-Encoding"] == "chunked"
    assert response.status_code == 413
    assert response.json()["error"] == "request_too_large"


def test_in01_a_chunked_form_over_the_limit_gets_a_page(server):
    response = requests.post(
        server.url + "/login",
        data=pieces(2 * LIMIT),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert response.status_code == 413
    assert response.headers["Content-Type"].startswith("text/html")
    assert "1,048,576 bytes" in response.text


def test_in01_a_huge_declared_length_is_answered_before_the_body_is_sent(server):
    # 400 MB announced, nothing sent: the answer comes at once, nothing waits for the body.
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as connection:
        connection.sendall(
            b"POST /oauth/token HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/json\r\nContent-Length: 400000000\r\n\r\n"
        )
        answer = b""
        while not answer.endswith(b"}\n") and (piece := connection.recv(65_536)):
            answer += piece
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"request_too_large" in answer
