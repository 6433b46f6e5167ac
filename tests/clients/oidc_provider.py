"""A real OpenID Connect provider for the tests: panva's ``oidc-provider`` under Node.

``tests/upstream/package.json`` pins it (``npm ci --prefix tests/upstream`` installs it, as
``.ci/run`` does). ``OidcProvider`` starts ``provider.mjs`` on a free loopback port with
test people and one client whose redirect URIs are this app's callbacks on any loopback
port (a native client, RFC 8252), and ``sign_in_at`` plays the person at the provider's
own login page over HTTP for the tests that do not need a browser.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import requests

from tests.mail_helpers import free_port

HERE = Path(__file__).resolve().parent
CLIENT_ID = "plugin-tests"
CLIENT_SECRET = "test-client-secret-" + "s" * 24
OTHER_CLIENT_ID = "another-app"
# Login name at the provider -> the claims its ID token carries.
PEOPLE: dict[str, dict[str, Any]] = {
    "alice": {"email": "alice@example.com", "email_verified": True, "name": "Alice"},
    "bob": {"email": "bob@example.org", "email_verified": True, "name": "Bob"},
    "mallory": {"email": "person@example.com", "email_verified": False, "name": "Mallory"},
    "person": {"email": "person@example.com", "email_verified": True, "name": "Person"},
    "noemail": {"name": "No Address"},
}


def _redirect_uris(name: str) -> list[str]:
    path = f"/login/with/{name}/callback"
    return [f"http://127.0.0.1{path}", f"http://localhost{path}"]


class OidcProvider:
    def __init__(self, node_clients: Path, provider_names: tuple[str, ...] = ("test",)) -> None:
        node = node_clients / ".bin" / "node"
        if not (node_clients / "oidc-provider").exists():
            raise RuntimeError(
                "oidc-provider is not installed: run `npm ci --prefix tests/clients`"
            )
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        uris = [uri for name in provider_names for uri in _redirect_uris(name)]
        client = {"application_type": "native", "redirect_uris": uris}
        settings = {
            "port": self.port,
            "clients": [
                {**client, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
                {**client, "client_id": OTHER_CLIENT_ID, "client_secret": CLIENT_SECRET},
            ],
            "people": PEOPLE,
        }
        self._folder = tempfile.TemporaryDirectory()
        config = Path(self._folder.name) / "provider.json"
        config.write_text(json.dumps(settings))
        self.log = Path(self._folder.name) / "provider.log"
        with self.log.open("w") as output:
            self.process = subprocess.Popen(
                [str(node), str(HERE / "oidc-provider.mjs"), str(config)],
                stdout=output,
                stderr=subprocess.STDOUT,
                env={**os.environ, "NODE_ENV": "test"},
            )
        deadline = time.monotonic() + 20
        while "listening" not in self.log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"oidc-provider did not start: {self.log.read_text()}")
            time.sleep(0.05)

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def settings(self, name: str = "test", **extra: str) -> dict[str, str]:
        """The app's settings for this provider under ``name``."""
        prefix = f"UPSTREAM_{name.upper()}_"
        return {
            "UPSTREAM_PROVIDERS": name,
            prefix + "CLIENT_ID": CLIENT_ID,
            prefix + "CLIENT_SECRET": CLIENT_SECRET,
            prefix + "DISCOVERY_URL": self.discovery_url,
            prefix + "LABEL": "Test ID",
            **{prefix + key: value for key, value in extra.items()},
        }

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self._folder.cleanup()


def sign_in_at(authorization_url: str, login: str) -> str:
    """Sign in as ``login`` at the provider's login page; return the callback URL it sends
    the browser back to (with code, state and iss)."""
    browser = requests.Session()
    url = authorization_url
    for _ in range(12):
        answer = browser.get(url, allow_redirects=False, timeout=10)
        prompt = re.search(r'name="prompt" value="(\w+)"', answer.text)
        if answer.status_code == 200 and prompt:
            action = re.search(r'<form[^>]*action="([^"]+)"', answer.text)
            assert action, answer.text[:500]
            fields = {"prompt": prompt.group(1)}
            if prompt.group(1) == "login":
                fields |= {"login": login, "password": "any"}
            answer = browser.post(action.group(1), data=fields, allow_redirects=False, timeout=10)
        assert answer.status_code in (302, 303), (answer.status_code, answer.text[:500])
        url = urljoin(url, answer.headers["Location"])
        if "/login/with/" in url:
            return url
    raise AssertionError("the provider never sent the browser back")
