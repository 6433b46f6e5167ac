"""Every redirect URI kind finishes on every path a person takes, in Chromium (OA-30, OA-31).

The desktop clients here are what Claude Code, Cursor, VS Code or mcp-remote do: register
by Dynamic Client Registration with a loopback ``http`` callback, then listen on whatever
port is free (a real HTTP listener, which the browser has to reach). Beside them: a desktop
tool registered by hand with a secret, and Claude's https callback. Paths: a first consent,
returning with a session, returning through the login form, after sign-up, and returning
through a passkey. A loopback client is asked every time (a one-click page naming the app
and its port) and the code leaves only from that page, which the browser may follow to the
port; an https client returning goes straight back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.helpers import PASSWORD, make_oauth_client, make_user
from tests.oauth.connector_helpers import (
    DocumentHost,
    desktop_authorize_query,
    desktop_registration,
)
from tests.servers import Gunicorn, free_port

EMAIL = "desk.person@example.com"
CLAUDE_CALLBACK = "https://claude.ai/api/mcp/auth_callback"
KINDS = ["loopback-127.0.0.1", "loopback-localhost", "loopback-with-secret", "https-claude"]


@pytest.fixture
def server(serve) -> Gunicorn:
    return serve(REGISTRATION_RATE_LIMIT="1000 per minute")


@pytest.fixture
def base(server, app) -> str:
    # Passkeys need a host name as relying party; http://localhost is a secure context.
    return server.url.replace("127.0.0.1", "localhost")


@pytest.fixture
def listener() -> Iterator[DocumentHost]:
    """The desktop app's loopback callback: answers the browser, keeps what it was sent."""
    host = DocumentHost()

    def answer(request: Any) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "text/plain")
        request.end_headers()
        request.wfile.write(b"Desk Agent is connected. You can close this tab.")

    host.routes["/callback"] = answer
    yield host
    host.stop()


@dataclass
class Client:
    kind: str
    client_id: str
    redirect_uri: str
    secret: str | None = None

    @property
    def loopback(self) -> bool:
        return self.redirect_uri.startswith("http://")


def register(base: str, redirect_uri: str) -> str:
    """Register as a desktop client does, over HTTP at the live server."""
    answer = requests.post(
        base + "/oauth/register", json=desktop_registration(redirect_uri), timeout=10
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["client_id"])


def make_client(kind: str, app, base: str, listener: DocumentHost) -> Client:
    port = listener.server.server_address[1]
    if kind == "loopback-with-secret":
        # Registered by hand: the exact URI, port included.
        uri = f"http://127.0.0.1:{port}/callback"
        made = make_oauth_client(app, name="Desk Agent", redirect_uri=uri)
        return Client(kind, made.client_id, uri, made.client_secret)
    if kind == "https-claude":
        client_id = register(base, CLAUDE_CALLBACK)
        return Client(kind, client_id, CLAUDE_CALLBACK)
    host = kind.removeprefix("loopback-")
    # Registered with one port, listening on another: RFC 8252 §7.3, any port.
    client_id = register(base, f"http://{host}:{free_port()}/callback")
    return Client(kind, client_id, f"http://{host}:{port}/callback")


@dataclass
class Journey:
    page: Any
    base: str
    client: Client
    listener: DocumentHost
    app: Any
    verifier: str = ""
    consent_text: str = ""

    def authorize(self) -> str:
        query, self.verifier = desktop_authorize_query(
            self.client.client_id, self.client.redirect_uri, state="s-42"
        )
        return f"{self.base}/oauth/authorize?{query}"

    def open_authorize(self) -> None:
        """Open the authorization request; a redirect off this machine fails in the browser,
        where ``_callback`` reads it."""
        try:
            self.page.goto(self.authorize())
        except PlaywrightError as error:
            if "ERR_NAME_NOT_RESOLVED" not in str(error):
                raise

    def log_in(self, *, via_form_at: str | None = None) -> None:
        self.page.goto(via_form_at or self.base + "/login")
        self.page.get_by_label("Email").fill(EMAIL)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Log in").click()

    def allowed_before(self) -> None:
        """The person allowed this client on an earlier visit."""
        import sqlalchemy as sa

        from plugin.accounts.models import User
        from plugin.database import commit
        from plugin.extensions import db
        from plugin.oauth.models import OAuthClient
        from plugin.oauth.services import give_consent

        with self.app.app_context():
            person = db.session.scalar(sa.select(User).where(User.email == EMAIL))
            client = db.session.scalar(
                sa.select(OAuthClient).where(OAuthClient.client_id == self.client.client_id)
            )
            give_consent(person, client, "todos:read todos:write")
            commit()

    def arrives(self, action: Callable[[], Any], *, page_first: bool) -> dict[str, str]:
        """Run ``action``; answer the consent page if one must come; return the callback's
        query as the client received it, after checking the code exchanges for tokens."""
        if page_first:
            action()
            allow = self.page.get_by_role("button", name="Allow", exact=True)
            expect(allow).to_be_visible()
            self.consent_text = self.page.locator("main").inner_text()
            self.page.shots(f"{self.client.kind}-consent")
            return self._callback(allow.click)
        return self._callback(action)

    def _callback(self, action: Callable[[], Any]) -> dict[str, str]:
        wanted = self.client.redirect_uri + "?"
        if self.client.loopback:
            action()
            self.page.wait_for_url(lambda url: url.startswith(wanted))
            expect(self.page.locator("body")).to_contain_text("Desk Agent is connected")
            received = [hit for hit in self.listener.hits if hit.startswith("/callback?")]
            assert len(received) == 1, self.listener.hits
            query = urlsplit(received[0]).query
        else:
            # Off this machine the browser resolves nothing: read the request it started.
            with self.page.expect_request(lambda request: request.url.startswith(wanted)) as sent:
                action()
            query = urlsplit(sent.value.url).query
        params = {key: values[0] for key, values in parse_qs(query).items()}
        assert params["state"] == "s-42" and params["code"], params
        self._exchange(params["code"])
        return params

    def _exchange(self, code: str) -> None:
        body = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.client.redirect_uri,
            "client_id": self.client.client_id,
            "code_verifier": self.verifier,
        }
        if self.client.secret:
            body["client_secret"] = self.client.secret
        answer = requests.post(self.base + "/oauth/token", data=body, timeout=10)
        assert answer.status_code == 200, answer.text
        assert answer.json()["access_token"]


@pytest.fixture
def authenticator(page):
    """A platform authenticator with user verification, as on a laptop with a fingerprint."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    yield cdp
    cdp.send("WebAuthn.disable")


@pytest.fixture(params=KINDS)
def journey(request, app, base, listener, page) -> Journey:
    return Journey(page, base, make_client(request.param, app, base, listener), listener, app)


def test_oa30_first_consent(journey):
    make_user(journey.app, EMAIL)
    journey.log_in()
    journey.arrives(journey.open_authorize, page_first=True)
    assert "You allowed Desk Agent before" not in journey.consent_text


def assert_asked_again(journey) -> None:
    """A loopback client's confirmation named the app and the port; https went straight back."""
    if journey.client.loopback:
        port = urlsplit(journey.client.redirect_uri).port
        assert "You allowed Desk Agent before" in journey.consent_text
        assert f"port {port}" in journey.consent_text
    else:
        assert journey.consent_text == ""


def test_oa30_oa31_returning_with_a_session(journey):
    make_user(journey.app, EMAIL)
    journey.log_in()
    journey.allowed_before()
    loopback = journey.client.loopback
    journey.arrives(journey.open_authorize, page_first=loopback)
    assert_asked_again(journey)


def test_oa30_oa31_returning_after_login(journey):
    make_user(journey.app, EMAIL)
    journey.allowed_before()

    def log_in_on_the_way() -> None:
        journey.page.goto(journey.authorize())
        expect(journey.page.get_by_role("heading", name="Log in")).to_be_visible()
        journey.log_in(via_form_at=journey.page.url)

    journey.arrives(log_in_on_the_way, page_first=journey.client.loopback)
    assert_asked_again(journey)


def test_oa30_after_sign_up(journey):
    page = journey.page

    def sign_up_on_the_way() -> None:
        page.goto(journey.authorize())
        page.get_by_role("link", name="Create an account").click()
        page.get_by_label("Email").fill(EMAIL)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_label("Repeat the password").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()

    journey.arrives(sign_up_on_the_way, page_first=True)
    assert "You allowed Desk Agent before" not in journey.consent_text


def test_oa30_oa31_returning_after_a_passkey(journey, authenticator):
    page = journey.page
    page.goto(journey.base + "/signup")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_role("button", name="Sign up with a passkey").click()
    expect(page).to_have_url(journey.base + "/account")
    page.get_by_role("button", name="Log out").click()
    journey.allowed_before()

    def passkey_on_the_way() -> None:
        page.goto(journey.authorize())
        page.get_by_role("button", name="Sign in with a passkey").click()

    journey.arrives(passkey_on_the_way, page_first=journey.client.loopback)
    assert_asked_again(journey)
