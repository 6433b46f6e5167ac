"""A TCP proxy in a process of its own, driven by tests.servers.TcpProxy.

``python tests/tcp_proxy.py <port> <target port>`` reads commands from standard input, one a
line: ``open`` (listen on 127.0.0.1:<port> and forward to the target) and ``close`` (stop
listening and cut every forwarded connection); it answers ``done`` to each.
"""

from __future__ import annotations

import selectors
import socket
import sys
import threading


class Forwarder:
    """Forward 127.0.0.1:<port> to a server; `close()` is that server going away.

    Closing stops listening (new connections are refused) and cuts every forwarded
    connection, which is what the app sees when PostgreSQL restarts or its host vanishes.
    """

    def __init__(self, port: int, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.port = port
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._stopped = threading.Event()
        self._stopped.set()

    def open(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        self._stopped.clear()
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def close(self) -> None:
        self._stopped.set()
        with self._lock:
            sockets = list(self._sockets)
            self._sockets.clear()
            if self._listener is not None:
                sockets.append(self._listener)
                self._listener = None
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=2)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._stopped.is_set():
                    client.close()
                    server.close()
                    return
                self._sockets.update((client, server))
            threading.Thread(target=self._pipe, args=(client, server), daemon=True).start()

    def _pipe(self, client: socket.socket, server: socket.socket) -> None:
        selector = selectors.DefaultSelector()
        selector.register(client, selectors.EVENT_READ, server)
        selector.register(server, selectors.EVENT_READ, client)
        try:
            while True:
                for key, _ in selector.select(timeout=1):
                    data = key.fileobj.recv(65536)
                    if not data:
                        return
                    key.data.sendall(data)
        except (OSError, ValueError):
            return
        finally:
            selector.close()
            for sock in (client, server):
                with self._lock:
                    self._sockets.discard(sock)
                sock.close()


def main(port: int, target_port: int) -> None:
    forwarder = Forwarder(port, target_port)
    for line in sys.stdin:
        command = line.strip()
        if command == "open":
            forwarder.open()
        elif command == "close":
            forwarder.close()
        else:
            print(f"unknown command {command!r}", flush=True)
            continue
        print("done", flush=True)
    forwarder.close()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
