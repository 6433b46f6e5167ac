"""Upstream sign-in refuses what it cannot trust, each with a page that keeps the install and
a step in the install's connection trace: a tampered nonce, an answer from another issuer,
a provider that does not answer, a domain or tenant the operator did not allow."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
import requests
import sqlalchemy as sa

from plugin import create_app
from plugin.accounts.models import User
from plugin.connections.models import TraceStep
from plugin.extensions import db
from tests.clients.oidc_provider import sign_in_at
from tests.helpers import base_config, csrf_token_from

NEXT = "/oauth/authorize?response_type=code&client_id=abc&state=s-1"


@pytest.fixture
def provider(oidc_provider):
    return oidc_provider


@pytest.fixture
def app_config(app_config, provider):
    return {**app_config, **provider.settings()}


def start(client, next_path: str = NEXT):
    return client.get(f"/login/with/test?next={quote(next_path, safe='')}")


def come_back(client, callback_url: str):
    parts = urlsplit(callback_url)
    return client.get(f"{parts.path}?{parts.query}")


def no_accounts(app) -> bool:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def trace_steps(app) -> list[tuple[str, bool, str | None]]:
    with app.app_context():
        rows = db.session.scalars(sa.select(TraceStep).order_by(TraceStep.id))
        return [(row.step, row.ok, row.reason) for row in rows]


def test_wrong_nonce_is_refused(app, client):
    authorize = start(client).headers["Location"]
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    with client.session_transaction() as session:
        key = next(k for k in session if k.startswith("_state_test_"))
        session[key]["data"]["nonce"] = "not-the-nonce-sent"
        session.modified = True
    response = come_back(client, sign_in_at(authorize, "alice"))
    assert response.status_code == 400
    assert "answer we cannot trust" in response.get_data(as_text=True)
    assert no_accounts(app)
    assert state


def test_refusal_is_a_step_of_the_install_trace(app, client, oauth_client):
    # The install's own first step: ChatGPT's authorization request sent to the login page.
    install = "/oauth/authorize?" + urlencode(
        {
            "response_type": "code",
            "client_id": oauth_client.client_id,
            "redirect_uri": oauth_client.redirect_uri,
            "state": "chatgpt-state-1",
        }
    )
    assert client.get(install).status_code == 302
    response = come_back(client, sign_in_at(start(client, install).headers["Location"], "mallory"))
    assert response.status_code == 403
    steps = trace_steps(app)
    upstream = [step for step in steps if step[0] == "upstream sign-in"]
    assert upstream and upstream[-1][1] is False, steps
    assert "Test ID" in upstream[-1][2] and "unverified" in upstream[-1][2]


class _Tampered(BaseHTTPRequestHandler):
    """The real provider's discovery document naming another issuer (a mix-up)."""

    document: bytes = b""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.document)))
        self.end_headers()
        self.wfile.write(self.document)

    def log_message(self, *args):
        pass


@pytest.fixture
def mixed_up_discovery(provider):
    document = requests.get(provider.discovery_url, timeout=5).json()
    document["issuer"] = "http://127.0.0.1:1/another-issuer"
    document.pop("authorization_response_iss_parameter_supported", None)
    handler = type("Handler", (_Tampered,), {"document": json.dumps(document).encode()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/.well-known/openid-configuration"
    server.shutdown()
    server.server_close()


def test_id_token_from_another_issuer_is_refused(other_app, provider, mixed_up_discovery):
    app = other_app(**provider.settings(DISCOVERY_URL=mixed_up_discovery))
    client = app.test_client()
    callback = sign_in_at(start(client).headers["Location"], "alice")
    # Without the iss beside the code, the ID token's own iss is what gives it away.
    parts = urlsplit(callback)
    query = {k: v for k, v in parse_qs(parts.query).items() if k != "iss"}
    response = client.get(parts.path, query_string={k: v[0] for k, v in query.items()})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert "answer we cannot trust" in response.get_data(as_text=True)
    assert no_accounts(app)
    # With it, the answer names the real issuer, not the one we expect.
    other = app.test_client()
    response = come_back(other, sign_in_at(start(other).headers["Location"], "alice"))
    assert response.status_code == 400
    assert no_accounts(app)


@pytest.fixture
def silent_provider():
    """A port that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/.well-known/openid-configuration"
    listener.close()


def test_a_provider_that_does_not_answer_costs_seconds(other_app, provider, silent_provider):
    app = other_app(**provider.settings(DISCOVERY_URL=silent_provider), UPSTREAM_TIMEOUT=1)
    client = app.test_client()
    began = time.monotonic()
    response = start(client)
    elapsed = time.monotonic() - began
    assert response.status_code == 504
    page = response.get_data(as_text=True)
    assert "Test ID is not answering" in page
    assert elapsed < 3, elapsed
    assert "next=/oauth/authorize" in page


def test_cancelled_at_the_provider(client):
    authorize = start(client).headers["Location"]
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    response = client.get(f"/login/with/test/callback?error=access_denied&state={state}")
    assert response.status_code == 400
    assert "You cancelled the sign-in at Test ID" in response.get_data(as_text=True)


@pytest.mark.parametrize("domains", ["example.org"])
def test_domain_not_allowed(other_app, provider, domains):
    app = other_app(**provider.settings(ALLOWED_DOMAINS=domains))
    client = app.test_client()
    refused = come_back(client, sign_in_at(start(client).headers["Location"], "alice"))
    assert refused.status_code == 403
    assert "This account is not allowed here" in refused.get_data(as_text=True)
    allowed = come_back(client, sign_in_at(start(client).headers["Location"], "bob"))
    assert allowed.status_code == 303 and allowed.headers["Location"] == NEXT


def test_upstream_only_closes_local_sign_in(other_app, provider, user):
    app = other_app(**provider.settings(), SIGN_IN_METHODS="upstream")
    client = app.test_client()
    page = client.get(f"/login?next={quote(NEXT, safe='')}").get_data(as_text=True)
    assert "Continue with Test ID" in page and 'name="password"' not in page
    token = csrf_token_from(page) if "csrf_token" in page else ""
    refused = client.post(
        "/login", data={"email": user.email, "password": "x", "csrf_token": token}
    )
    assert refused.status_code == 403
    assert client.get("/signup").status_code == 200
    assert 'name="password"' not in client.get("/signup").get_data(as_text=True)


@pytest.mark.parametrize(
    ("settings", "variable"),
    [
        ({"UPSTREAM_PROVIDERS": "corp"}, "UPSTREAM_CORP_CLIENT_ID"),
        (
            {
                "UPSTREAM_PROVIDERS": "corp",
                "UPSTREAM_CORP_CLIENT_ID": "a",
                "UPSTREAM_CORP_CLIENT_SECRET": "b",
            },
            "UPSTREAM_CORP_DISCOVERY_URL",
        ),
        (
            {
                "UPSTREAM_PROVIDERS": "corp",
                "UPSTREAM_CORP_CLIENT_ID": "a",
                "UPSTREAM_CORP_CLIENT_SECRET": "b",
                "UPSTREAM_CORP_DISCOVERY_URL": "http://idp.example.com/.well-known/openid-configuration",
            },
            "UPSTREAM_CORP_DISCOVERY_URL",
        ),
        (
            {"UPSTREAM_PROVIDERS": "google", "UPSTREAM_GOOGLE_CLIENT_ID": "a"},
            "UPSTREAM_GOOGLE_CLIENT_SECRET",
        ),
        (
            {"UPSTREAM_PROVIDERS": "apple", "UPSTREAM_APPLE_CLIENT_ID": "a"},
            "UPSTREAM_APPLE_TEAM_ID",
        ),
        ({"SIGN_IN_METHODS": "sometimes"}, "SIGN_IN_METHODS"),
        ({"SIGN_IN_METHODS": "upstream"}, "UPSTREAM_PROVIDERS"),
    ],
)
def test_bad_provider_settings_stop_start_up_naming_the_variable(database_url, settings, variable):
    with pytest.raises(SystemExit) as stopped:
        create_app(base_config(database_url) | settings)
    message = str(stopped.value)
    assert message.startswith("Configuration error: ") and variable in message
    assert "\n" not in message
