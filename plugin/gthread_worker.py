"""gunicorn's gthread worker, but a thread is only given a request whose head has arrived.

gthread hands each connection to a thread as soon as its first byte arrives, and the thread
then blocks until the rest of the request head comes in. A client that sends half a header
and waits holds that thread for as long as it likes, so a dozen such connections stall every
worker (gunicorn has no setting that bounds it). This worker reads request heads in its event
loop instead, next to the kept-alive connections: a slow head costs a socket and a buffer,
never a thread, and is closed with 408 after ``header_timeout`` seconds.

It also accepts new connections only while one of its threads is free. gthread accepts as
long as it holds fewer than ``worker_connections``, so one worker could take every connection
of a burst while another sat idle: with 2 workers and 4 kept-alive connections, a benchmark
run found one worker doing all the work in half of its runs, its requests queued behind each
other (docs/benchmarks.md). A busy worker now leaves new connections to an idle one, as a
sync worker does; when every worker is busy they wait in the listen backlog until a thread
frees, which takes one request's time, never a client's.
"""

from __future__ import annotations

import errno
import selectors
import time
from collections import deque
from functools import partial
from typing import Any

from gunicorn.workers.gthread import TConn, ThreadWorker

HEAD_END = b"\r\n\r\n"
# Larger heads are refused with 431. Browsers and ChatGPT send a few KiB; nginx's own
# default buffers stop at 32 KiB.
MAX_HEAD_BYTES = 64 * 1024
RECV_BYTES = 8192
# Seconds between heartbeats at most (gunicorn's timeout is 30 s by default).
NOTIFY_INTERVAL = 1.0
# A new connection's first bytes usually follow its accept within microseconds; for this long
# at most the worker counts it as busy and leaves further connections to the other workers.
NEW_CONNECTION_CLAIM = 0.05
REQUEST_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
HEAD_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"Connection: close\r\nContent-Length: 0\r\n\r\n"
)


def head_is_complete(data: bytes | bytearray) -> bool:
    """Tell whether ``data`` holds a whole request head, or enough for the parser to refuse it."""
    # A bare LF never ends a head for gunicorn's parser, which rejects it at once (400).
    return HEAD_END in data or data.count(b"\n") != data.count(b"\r\n")


class HeadBufferingWorker(ThreadWorker):
    """A gthread worker that reads each request head in its event loop, with a deadline."""

    #: Seconds a connection may take to send a request head (set from gunicorn.conf.py).
    header_timeout: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # In the order they started, so the first one is always the next to expire.
        self.reading_heads: deque[TConn] = deque()
        self.notified_at = float("-inf")
        # Requests handed to the thread pool and not finished yet (main thread only).
        self.in_flight = 0
        # Connections just accepted whose head has not come, each busy until its deadline.
        self.claims: dict[TConn, float] = {}

    def notify(self) -> None:
        # gthread touches the heartbeat file (a utimensat) on every pass of its loop, which
        # is several times per request; the arbiter only needs it well within ``timeout``.
        now = time.monotonic()
        if now - self.notified_at >= min(NOTIFY_INTERVAL, self.timeout / 4):
            self.notified_at = now
            super().notify()

    def init_process(self) -> None:
        # TLS, HTTP/2 and PROXY-protocol bytes are not an HTTP/1 head: those set-ups keep
        # gthread's own behaviour (the TLS-terminating proxy in front is the guard there).
        cfg = self.cfg
        self.buffers_heads = (
            not cfg.is_ssl and cfg.proxy_protocol == "off" and cfg.http2_cleartext == "off"
        )
        super().init_process()

    def set_accept_enabled(self, enabled: bool) -> None:
        # gthread's loop asks for accepting whenever it holds few connections; only a worker
        # with a free thread takes new ones.
        super().set_accept_enabled(enabled and not self._every_thread_busy())

    def _every_thread_busy(self) -> bool:
        """Requests in flight and fresh claims (expired ones dropped) fill every thread."""
        if self.claims:
            now = time.monotonic()
            for conn in [conn for conn, until in self.claims.items() if until <= now]:
                del self.claims[conn]
        threads: int = self.cfg.threads
        return self.in_flight + len(self.claims) >= threads

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        # Wake up when a claim ends, to accept again.
        if self.claims:
            timeout = max(0.0, min(timeout, min(self.claims.values()) - time.monotonic()))
        super().wait_for_and_dispatch_events(timeout)

    def _submit(self, conn: TConn) -> None:
        self.in_flight += 1
        super().enqueue_req(conn)
        if self._every_thread_busy():
            self.set_accept_enabled(False)

    def finish_request(self, conn: TConn, fs: Any) -> None:
        self.in_flight -= 1
        super().finish_request(conn, fs)

    def enqueue_req(self, conn: TConn) -> None:
        if not self.buffers_heads:
            self._submit(conn)
            return
        # A kept-alive connection may already hold the start of its next request.
        head = bytearray(conn.parser.unreader.take_buffered() if conn.parser else b"")
        if head_is_complete(head):
            self._dispatch(conn, head)
            return
        if conn.parser is None:
            # Just accepted (gthread builds the parser on its first request): claim a thread
            # for it a moment, so that a burst of connections is not all taken by this worker.
            self.claims[conn] = time.monotonic() + NEW_CONNECTION_CLAIM
            if self._every_thread_busy():
                self.set_accept_enabled(False)
        conn.head = head
        conn.timeout = time.monotonic() + self.header_timeout
        # Kept-alive sockets come back from the poller non-blocking already (a syscall saved).
        if conn.sock.getblocking():
            conn.sock.setblocking(False)
        self.reading_heads.append(conn)
        # gthread calls this once the socket is readable: the head is usually there already,
        # and reading it now saves a trip through the poller for every kept-alive request.
        conn.polled = False
        if not self._receive(conn):
            conn.polled = True
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._read_head, conn))

    def _read_head(self, conn: TConn, _sock: object) -> None:
        self._receive(conn)

    def _receive(self, conn: TConn) -> bool:
        """Read what has arrived of ``conn``'s head; True once the head is dispatched or the
        connection closed, False while more is awaited."""
        try:
            data = conn.sock.recv(RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError as error:
            if error.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                return False
            data = b""
        if not data:
            self._close_head(conn)
            return True
        conn.head += data
        if len(conn.head) > MAX_HEAD_BYTES:
            self._close_head(conn, HEAD_TOO_LARGE)
        elif head_is_complete(conn.head):
            self._stop_reading(conn)
            self._dispatch(conn, conn.head)
        else:
            return False
        return True

    def _dispatch(self, conn: TConn, head: bytearray) -> None:
        conn.head = None
        # The thread makes the socket blocking again (gthread's handle()) before reading on.
        # Plain HTTP/1 only (see init_process): init() just builds the parser here.
        conn.init()
        conn.parser.unreader.unread(bytes(head))
        conn.data_ready = True
        self._submit(conn)

    def _stop_reading(self, conn: TConn) -> None:
        self.reading_heads.remove(conn)
        self.claims.pop(conn, None)
        if not conn.polled:
            return
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass

    def _close_head(self, conn: TConn, answer: bytes = b"") -> None:
        self._stop_reading(conn)
        if answer:
            try:
                conn.sock.send(answer)
            except OSError:
                pass
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        """Close the connections whose request head is overdue (called by the event loop)."""
        super().murder_pending()
        now = time.monotonic()
        while self.reading_heads and self.reading_heads[0].timeout <= now:
            conn = self.reading_heads[0]
            # A client that sent nothing at all is an idle connection, not a late request.
            self._close_head(conn, REQUEST_TIMEOUT if conn.head else b"")
