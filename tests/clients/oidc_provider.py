"""A real OpenID Connect provider for the tests: panva's ``oidc-provider`` under Node.

``tests/clients/package.json`` pins it (``npm ci --prefix tests/clients`` installs it, as
``.ci/run`` does). ``OidcProvider`` starts ``oidc-provider.mjs`` on a free loopback port: a
generic issuer at the root with test people and two clients (ours and ``another-app``) whose
redirect URIs are this app's callbacks on any loopback port (native clients, RFC 8252), and
look-alikes of Google, Microsoft (one Entra tenant and the multi-tenant document) and Apple
under their own paths. ``answer_from`` and ``sign_in_at`` play the person at the provider's
own login page over HTTP for the tests that do not need a browser.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
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
# The names the app's providers take in the tests: their callbacks are registered everywhere.
CALLBACK_NAMES = ("test", "google", "microsoft", "entra", "fabrikam", "apple")

# Look-alikes of the presets' providers, each an issuer of the same provider process under
# its own path. What each imitates, and what it cannot, is said where the tests use it.
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OTHER_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"
MICROSOFT_PATH = f"/{TENANT}/v2.0"
APPLE_CLIENT_ID = "com.example.plugin.signin"
# What the token gate (tests/clients/token_gate.py) sends the provider once it has checked
# Apple's JWT client secret: oidc-provider knows only fixed secrets.
APPLE_GATE_SECRET = "apple-gate-secret-" + "s" * 24
GOOGLE_PEOPLE: dict[str, dict[str, Any]] = {
    "alice": {"email": "alice@gmail.example", "email_verified": True, "name": "Alice"},
    "mallory": {"email": "person@example.com", "email_verified": False, "name": "Mallory"},
}
# Entra ID: tid names the person's tenant; xms_edov says the domain's owner verified the
# address; there is no email_verified.
MICROSOFT_PEOPLE: dict[str, dict[str, Any]] = {
    "worker": {"email": "worker@contoso.example", "tid": TENANT, "name": "Worker"},
    "owner": {"email": "owner@contoso.example", "tid": TENANT, "xms_edov": True},
    # A tid that is not the tenant of the issuer that signed the token.
    "forger": {"email": "forger@contoso.example", "tid": OTHER_TENANT, "xms_edov": True},
}
# Apple: "true" as a string, and a relay address for people who hide theirs.
APPLE_PEOPLE: dict[str, dict[str, Any]] = {
    "appleseed": {
        "email": "x7q2@privaterelay.appleid.com",
        "email_verified": "true",
        "is_private_email": "true",
    },
}


def _redirect_uris(*names: str) -> list[str]:
    paths = [f"/login/with/{name}/callback" for name in names]
    return [f"http://{host}{path}" for path in paths for host in ("127.0.0.1", "localhost")]


def _client(client_id: str, secret: str, **extra: str) -> dict[str, Any]:
    uris = _redirect_uris(*CALLBACK_NAMES)
    return {
        "application_type": "native",
        "redirect_uris": uris,
        "client_id": client_id,
        "client_secret": secret,
        **extra,
    }


ISSUERS: list[dict[str, Any]] = [
    {
        "path": "",
        "clients": [_client(CLIENT_ID, CLIENT_SECRET), _client(OTHER_CLIENT_ID, CLIENT_SECRET)],
        "people": PEOPLE,
    },
    {
        "path": "/google",
        "clients": [_client(CLIENT_ID, CLIENT_SECRET)],
        "people": GOOGLE_PEOPLE,
        "idTokenClaims": True,
    },
    {
        "path": MICROSOFT_PATH,
        "clients": [_client(CLIENT_ID, CLIENT_SECRET)],
        "people": MICROSOFT_PEOPLE,
        "claims": {"openid": ["sub", "tid"], "email": ["email", "xms_edov"], "profile": ["name"]},
        "idTokenClaims": True,
    },
    {
        "path": "/apple",
        "clients": [
            _client(
                APPLE_CLIENT_ID, APPLE_GATE_SECRET, token_endpoint_auth_method="client_secret_post"
            )
        ],
        "people": APPLE_PEOPLE,
        "claims": {"openid": ["sub"], "email": ["email", "email_verified", "is_private_email"]},
        "idTokenClaims": True,
        "userinfo": False,
    },
]
# Microsoft's multi-tenant document: the tenant's, with the issuer "…/{tenantid}/v2.0".
TEMPLATES = [{"path": "/common/v2.0", "of": MICROSOFT_PATH, "issuer": "/{tenantid}/v2.0"}]


class OidcProvider:
    def __init__(self, node_clients: Path) -> None:
        node = node_clients / ".bin" / "node"
        if not (node_clients / "oidc-provider").exists():
            raise RuntimeError(
                "oidc-provider is not installed: run `npm ci --prefix tests/clients`"
            )
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.issuer = self.origin
        settings = {"port": self.port, "issuers": ISSUERS, "templates": TEMPLATES}
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
        return self.discovery_url_at("")

    def discovery_url_at(self, path: str) -> str:
        """The discovery document of the issuer (or template) served under ``path``."""
        return f"{self.origin}{path}/.well-known/openid-configuration"

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


@dataclass(frozen=True)
class Answer:
    """How the provider sends the browser back: a redirect (GET) or a form it posts."""

    method: str
    url: str
    fields: dict[str, str]


def answer_from(authorization_url: str, login: str) -> Answer:
    """Sign in as ``login`` at the provider's login page; return its answer to the app."""
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
        if answer.status_code == 200 and "Submitting Callback" in answer.text:
            # response_mode=form_post: a page whose script posts the answer to the app.
            action = re.search(r'<form method="post" action="([^"]+)"', answer.text)
            assert action, answer.text[:500]
            inputs = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', answer.text)
            fields = {name: html.unescape(value) for name, value in inputs}
            return Answer("POST", html.unescape(action.group(1)), fields)
        assert answer.status_code in (302, 303), (answer.status_code, answer.text[:500])
        url = urljoin(url, answer.headers["Location"])
        if "/login/with/" in url:
            return Answer("GET", url, {})
    raise AssertionError("the provider never sent the browser back")


def sign_in_at(authorization_url: str, login: str) -> str:
    """Sign in as ``login`` at the provider's login page; return the callback URL it sends
    the browser back to (with code, state and iss)."""
    answer = answer_from(authorization_url, login)
    assert answer.method == "GET", answer
    return answer.url
