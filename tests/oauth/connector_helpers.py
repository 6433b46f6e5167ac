"""Outside parties of the connector tests, on loopback: a host serving client metadata
documents (http or https with a test CA) and a protected MCP-style route on the app."""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

Handler = Callable[[BaseHTTPRequestHandler], None]


class DocumentHost:
    """A tiny web server; ``routes`` maps a path to what it answers (changeable per test)."""

    def __init__(self, tls_folder: Path | None = None) -> None:
        self.routes: dict[str, Handler] = {}
        self.hits: list[str] = []
        host = self

        class RequestHandler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host.hits.append(self.path)
                route = host.routes.get(self.path.split("?")[0])
                if route is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                route(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self.server.daemon_threads = True
        self.scheme = "http"
        self.ca_file: Path | None = None
        if tls_folder is not None:
            self.ca_file = _wrap_tls(self.server, tls_folder)
            self.scheme = "https"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def serve_json(self, path: str, document: Any, **headers: str) -> str:
        body = json.dumps(document).encode()

        def answer(request: BaseHTTPRequestHandler) -> None:
            request.send_response(200)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                request.send_header(name.replace("_", "-"), value)
            request.end_headers()
            request.wfile.write(body)

        self.routes[path] = answer
        return self.url(path)

    def serve_redirect(self, path: str, location: str) -> str:
        def answer(request: BaseHTTPRequestHandler) -> None:
            request.send_response(302)
            request.send_header("Location", location)
            request.end_headers()

        self.routes[path] = answer
        return self.url(path)

    def serve_slowly(self, path: str, seconds: float) -> str:
        def answer(request: BaseHTTPRequestHandler) -> None:
            time.sleep(seconds)
            request.send_response(200)
            request.end_headers()

        self.routes[path] = answer
        return self.url(path)

    def serve_status(self, path: str, status: int) -> str:
        def answer(request: BaseHTTPRequestHandler) -> None:
            request.send_response(status)
            request.send_header("Content-Length", "0")
            request.end_headers()

        self.routes[path] = answer
        return self.url(path)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _wrap_tls(server: ThreadingHTTPServer, folder: Path) -> Path:
    """Serve https with a certificate for 127.0.0.1 from a throwaway CA; return the CA file."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "connector test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    return ca_file


def client_document(url: str, redirect_uri: str, **extra: Any) -> dict[str, Any]:
    return {
        "client_id": url,
        "client_name": "Desk Agent",
        "redirect_uris": [redirect_uri],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        **extra,
    }


def desktop_registration(redirect_uri: str, name: str = "Desk Agent") -> dict[str, Any]:
    """The RFC 7591 metadata desktop MCP clients register: public, one callback."""
    return {
        "client_name": name,
        "redirect_uris": [redirect_uri],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    }


def register_desktop_app(http, redirect_uri: str, name: str = "Desk Agent") -> str:
    """Register through the test client ``http`` as a desktop client does; the client_id."""
    answer = http.post("/oauth/register", json=desktop_registration(redirect_uri, name))
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return str(answer.json["client_id"])


def desktop_authorize_query(
    client_id: str, redirect_uri: str, state: str = "xyz"
) -> tuple[str, str]:
    """The query of a desktop client's authorization request (PKCE), and its verifier."""
    import base64
    import hashlib
    import secrets
    from urllib.parse import urlencode

    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": "todos:read todos:write",
            "state": state,
            "code_challenge": challenge.decode(),
            "code_challenge_method": "S256",
        }
    )
    return query, verifier


class DrippingHost:
    """A host that accepts, reads the request, then sends one header byte a second and never
    finishes; it notes how many connections are open at once and how long each lasted."""

    def __init__(self, give_up_after: float = 30.0) -> None:
        import socket

        self.give_up_after = give_up_after
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.open_now = 0
        self.most_open = 0
        self.durations: list[float] = []
        self.stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._drip, args=(connection,), daemon=True).start()

    def _drip(self, connection: Any) -> None:
        import select

        started = time.monotonic()
        with self.lock:
            self.open_now += 1
            self.most_open = max(self.most_open, self.open_now)
        try:
            connection.recv(4096)  # the request
            connection.sendall(b"HTTP/1.1 200 OK\r\nX-Drip: ")
            while time.monotonic() - started < self.give_up_after and not self.stopped.is_set():
                readable, _, _ = select.select([connection], [], [], 1.0)
                if readable and not connection.recv(1024):
                    break  # the fetcher hung up
                connection.sendall(b"x")
        except OSError:
            pass
        finally:
            connection.close()
            with self.lock:
                self.open_now -= 1
                self.durations.append(time.monotonic() - started)

    def stop(self) -> None:
        self.stopped.set()
        self.listener.close()
