"""A recording gate in front of a real provider's token endpoint, on a loopback port.

It serves the provider's discovery document with ``token_endpoint`` pointing at itself and
passes each token request on, after ``rewrite`` has seen (and may change) its form and
headers. Tests use it where oidc-provider cannot play a part itself: checking Apple's JWT
client secret before handing the provider the fixed secret it knows, or authenticating as
another client so that the provider mints an ID token for another audience.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode

import requests

Form = dict[str, str]
Headers = dict[str, str]
# Returns the request to pass on, or (status, JSON body) to answer without the provider.
Rewrite = Callable[[Form, Headers], tuple[Form, Headers] | tuple[int, dict[str, Any]]]

PASSED_HEADERS = ("Authorization", "Content-Type", "Accept")


class TokenGate:
    def __init__(self, discovery_url: str, rewrite: Rewrite) -> None:
        self.document = requests.get(discovery_url, timeout=5).json()
        self.token_endpoint = self.document["token_endpoint"]
        self.rewrite = rewrite
        # Each token request as the app sent it: its form and headers.
        self.requests: list[tuple[Form, Headers]] = []
        # The provider's answers passed back to the app.
        self.answers: list[dict[str, Any]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.document["token_endpoint"] = f"{self.url}/token"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def discovery_url(self) -> str:
        return f"{self.url}/.well-known/openid-configuration"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        gate = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._answer(200, gate.document)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode()))
                headers = {k: v for k in PASSED_HEADERS if (v := self.headers.get(k))}
                gate.requests.append((dict(form), dict(headers)))
                decided = gate.rewrite(form, headers)
                if isinstance(decided[0], int):
                    self._answer(*decided)
                    return
                form, headers = decided
                passed = requests.post(
                    gate.token_endpoint, data=urlencode(form), headers=headers, timeout=10
                )
                gate.answers.append(passed.json())
                self._answer(passed.status_code, gate.answers[-1])

            def _answer(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
