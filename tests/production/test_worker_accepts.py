"""A busy worker leaves new connections to the others (plugin/gthread_worker.py).

gthread accepted every connection it could hold, so with 2 workers one could take all the
connections of a burst and queue their requests while the other sat idle. The worker is driven
here by hand, without gunicorn's arbiter: a real listening socket, its own poller.
"""

from __future__ import annotations

import selectors
import socket
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import pytest
from gunicorn.config import Config

from plugin import gthread_worker
from plugin.gthread_worker import HeadBufferingWorker

REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


class Pool:
    """A thread pool that runs nothing: the test finishes each request itself."""

    def __init__(self) -> None:
        self.submitted: list[Any] = []

    def submit(self, function: Any, conn: Any) -> Future[bool]:
        self.submitted.append(conn)
        return Future()


@pytest.fixture
def worker() -> Iterator[tuple[HeadBufferingWorker, socket.socket]]:
    listener = socket.create_server(("127.0.0.1", 0))
    made = HeadBufferingWorker.__new__(HeadBufferingWorker)
    made.cfg = Config()
    made.cfg.set("threads", 1)
    made.sockets = [listener]
    made.poller = selectors.DefaultSelector()
    made.tpool = Pool()
    made.buffers_heads = True
    made.header_timeout = 10.0
    made.reading_heads = deque()
    made.nr_conns = 0
    made.in_flight = 0
    made.claims = {}
    made._accepting = False
    yield made, listener
    for conn in [*made.tpool.submitted, *made.reading_heads]:
        conn.sock.close()
    made.poller.close()
    listener.close()


def accepting(worker: HeadBufferingWorker) -> bool:
    return any(key.fileobj in worker.sockets for key in worker.poller.get_map().values())


def connect(listener: socket.socket, data: bytes = b"") -> socket.socket:
    client = socket.create_connection(listener.getsockname())
    if data:
        client.sendall(data)
        time.sleep(0.05)  # on loopback, long enough for the bytes to be readable
    return client


def test_a_worker_whose_thread_is_busy_accepts_no_more_connections(worker):
    worker, listener = worker
    worker.set_accept_enabled(True)
    assert accepting(worker)
    with connect(listener, REQUEST):
        worker.accept(listener)
        assert len(worker.tpool.submitted) == 1
        assert not accepting(worker)
        # gthread's loop asks to accept again on every pass; the thread is still busy.
        worker.set_accept_enabled(True)
        assert not accepting(worker)

        conn = worker.tpool.submitted[0]
        done: Future[bool] = Future()
        done.set_result(False)  # the connection closes after its answer
        worker.finish_request(conn, done)
        worker.set_accept_enabled(True)
        assert accepting(worker)


def test_a_new_connection_is_claimed_until_its_head_comes(worker):
    worker, listener = worker
    worker.set_accept_enabled(True)
    with connect(listener) as client:
        worker.accept(listener)
        assert not accepting(worker)
        assert worker.reading_heads

        client.sendall(REQUEST)
        time.sleep(0.05)
        worker.wait_for_and_dispatch_events(0.5)
        assert len(worker.tpool.submitted) == 1
        worker.set_accept_enabled(True)
        assert not accepting(worker)


def test_a_silent_connection_holds_the_worker_only_for_a_moment(worker):
    worker, listener = worker
    worker.set_accept_enabled(True)
    with connect(listener):
        worker.accept(listener)
        assert not accepting(worker)
        started = time.monotonic()
        worker.wait_for_and_dispatch_events(1.0)
        # The loop wakes when the claim ends, not after its usual second.
        assert time.monotonic() - started < 0.5
        time.sleep(gthread_worker.NEW_CONNECTION_CLAIM)
        worker.set_accept_enabled(True)
        assert accepting(worker)
        assert worker.reading_heads  # still waiting for its head, without a thread


def test_with_two_threads_a_worker_takes_a_second_connection(worker):
    worker, listener = worker
    worker.cfg.set("threads", 2)
    worker.set_accept_enabled(True)
    with connect(listener), connect(listener):
        worker.accept(listener)
        assert accepting(worker)
        worker.accept(listener)
        assert not accepting(worker)
        assert len(worker.claims) == 2
