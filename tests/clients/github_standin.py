"""A loopback server shaped like GitHub's OAuth and REST API: the one stand-in of the
upstream tests (every OpenID Connect provider is the real oidc-provider).

GitHub sign-in is OAuth 2 without OpenID Connect, so there is no certified provider to run.
This server answers what the GitHub preset calls, as GitHub documents it:
- ``GET /login/oauth/authorize``: the person (``person``, set by the test) approves at once
  and the browser goes back with ``code`` and ``state``, or with
  ``error=access_denied`` when ``deny`` is set (the person pressed "Cancel");
- ``POST /login/oauth/access_token``: client id and secret in the form, the code once, the
  same redirect URI, the PKCE verifier; answers JSON when asked (``Accept``), else a form,
  and a refused code with HTTP 200 and ``{"error": "bad_verification_code"}`` as GitHub does;
  ``token_status`` makes it fail outright (a 502 from GitHub's edge);
- ``GET /api/v3/user`` and ``/api/v3/user/emails`` (GitHub Enterprise Server's API path)
  with the token; every address has ``primary`` and ``verified``; ``api_delay`` makes the API
  slow.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

CLIENT_ID = "Iv1.standin0client"
CLIENT_SECRET = "standin-secret-" + "s" * 24

# Login -> the user's id and the addresses /user/emails lists.
PEOPLE: dict[str, dict[str, Any]] = {
    "octocat": {
        "id": 583231,
        "emails": [{"email": "octocat@github.example", "primary": True, "verified": True}],
    },
    "person": {
        "id": 1001,
        "emails": [{"email": "person@example.com", "primary": True, "verified": True}],
    },
    "newcomer": {
        "id": 1002,
        "emails": [{"email": "newcomer@github.example", "primary": True, "verified": False}],
    },
    # The primary address is not verified; another one is.
    "twoaddresses": {
        "id": 1003,
        "emails": [
            {"email": "home@unverified.example", "primary": True, "verified": False},
            {"email": "work@example.com", "primary": False, "verified": True},
        ],
    },
}


class GitHubStandIn:
    def __init__(self) -> None:
        self.person = "octocat"
        self.deny = False
        self.token_status: int | None = None
        self.api_delay = 0.0
        # Each authorization request's query and token request's form, as received.
        self.authorizations: list[dict[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        self._codes: dict[str, dict[str, str]] = {}
        self._tokens: dict[str, str] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def settings(self, name: str = "github") -> dict[str, str]:
        prefix = f"UPSTREAM_{name.upper()}_"
        return {
            "UPSTREAM_PROVIDERS": name,
            prefix + "CLIENT_ID": CLIENT_ID,
            prefix + "CLIENT_SECRET": CLIENT_SECRET,
            prefix + "WEB_URL": self.url,
            prefix + "API_URL": f"{self.url}/api/v3",
        }

    def reset(self) -> None:
        self.person, self.deny, self.token_status, self.api_delay = "octocat", False, None, 0.0
        self.authorizations.clear()
        self.token_requests.clear()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def authorize(self, query: dict[str, str]) -> str | None:
        """Where GitHub sends the browser back after the authorization page (None: GitHub's
        404 page for an unknown client)."""
        self.authorizations.append(query)
        back = query.get("redirect_uri", "")
        if query.get("client_id") != CLIENT_ID or not back:
            return None
        answer = {"state": query.get("state", "")}
        if self.deny:
            answer |= {
                "error": "access_denied",
                "error_description": "The user has denied your application access.",
                "error_uri": "https://docs.github.com/apps/troubleshooting-authorization-request-errors/#access-denied",
            }
        else:
            code = secrets.token_hex(10)
            self._codes[code] = {"person": self.person, **query}
            answer["code"] = code
        return f"{back}?{urlencode(answer)}"

    def exchange(self, form: dict[str, str]) -> dict[str, str]:
        """The access token for a code, or GitHub's error object."""
        self.token_requests.append(form)
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return {"error": "incorrect_client_credentials"}
        grant = self._codes.pop(form.get("code", ""), None)
        if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
            return {
                "error": "bad_verification_code",
                "error_description": "The code passed is incorrect or expired.",
            }
        if "code_challenge" in grant:
            digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant["code_challenge"]:
                return {"error": "bad_verification_code", "error_description": "PKCE failed."}
        token = "gho_" + secrets.token_hex(18)
        self._tokens[token] = grant["person"]
        return {"access_token": token, "token_type": "bearer", "scope": grant.get("scope", "")}

    def api(self, path: str, authorization: str) -> tuple[int, Any]:
        person = self._tokens.get(authorization.partition(" ")[2])
        if person is None:
            return 401, {"message": "Bad credentials", "status": "401"}
        time.sleep(self.api_delay)
        profile = PEOPLE[person]
        if path == "/api/v3/user":
            return 200, {"login": person, "id": profile["id"], "email": None}
        if path == "/api/v3/user/emails":
            return 200, [address | {"visibility": None} for address in profile["emails"]]
        return 404, {"message": "Not Found"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path == "/login/oauth/authorize":
                    location = standin.authorize(dict(parse_qsl(parts.query)))
                    if location is None:
                        self._json(404, {"message": "Not Found"})
                        return
                    self.send_response(302)
                    self.send_header("Location", location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self._json(*standin.api(parts.path, self.headers.get("Authorization", "")))

            def do_POST(self) -> None:
                if urlsplit(self.path).path != "/login/oauth/access_token":
                    self._json(404, {"message": "Not Found"})
                    return
                if standin.token_status:
                    self._json(standin.token_status, {"message": "Server Error"})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                answer = standin.exchange(dict(parse_qsl(self.rfile.read(length).decode())))
                if "application/json" in self.headers.get("Accept", ""):
                    self._json(200, answer)
                    return
                data = urlencode(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-www-form-urlencoded")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _json(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the app stopped waiting (the slow API test)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
