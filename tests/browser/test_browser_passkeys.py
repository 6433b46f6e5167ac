"""Passkeys in a real browser: Chromium's virtual authenticator (DevTools WebAuthn domain)
stands in for a phone or laptop, and static/passkeys.js talks to it as to a real one.

WebAuthn needs a secure context and a host name (never an IP address) as the relying party:
the pages are opened at http://localhost, which Chromium counts as secure.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import expect

from tests.helpers import REDIRECT_URI, make_oauth_client

EMAIL = "passkey.person@example.com"
PASSWORD = "a passphrase kept for emergencies"


@pytest.fixture
def base(live_server) -> str:
    return live_server.url.replace("127.0.0.1", "localhost")


@pytest.fixture
def authenticator(page):
    """A platform authenticator with user verification, as on a laptop with a fingerprint."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
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
    yield cdp, added["authenticatorId"]
    cdp.send("WebAuthn.disable")


def _sign_up_and_add_a_passkey(page, base: str, name: str) -> None:
    page.goto(base + "/signup")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(base + "/account")

    section = page.locator("section", has=page.get_by_role("heading", name="Passkeys"))
    expect(section.get_by_text("You have no passkeys yet.")).to_be_visible()
    page.get_by_label("Name for this passkey").fill(name)
    # Asked again, as removing asks: a wrong password is shown beside its field.
    page.get_by_label("Your password, to add a passkey").fill("not the password")
    page.get_by_role("button", name="Add a passkey").click()
    expect(section.get_by_text("Your password is not correct.")).to_be_visible()
    page.get_by_label("Your password, to add a passkey").fill(PASSWORD)
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_text(f"Passkey “{name}” added.")).to_be_visible()
    expect(section.get_by_text(name, exact=True)).to_be_visible()
    page.shots("passkey-added")


def test_sign_up_add_a_passkey_log_out_sign_in_with_it(live_server, base, page, authenticator):
    cdp, authenticator_id = authenticator
    _sign_up_and_add_a_passkey(page, base, "This laptop")
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    [credential] = credentials["credentials"]
    assert credential["isResidentCredential"] and credential["rpId"] == "localhost"

    page.get_by_role("button", name="Log out").click()
    page.goto(base + "/login")
    page.shots("login-with-passkey-button")
    # No email typed: the passkey says whose account it is.
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page).to_have_url(base + "/account")
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    expect(page.get_by_text(EMAIL).first).to_be_visible()
    expect(page.get_by_text("last used")).to_be_visible()
    page.shots("signed-in-with-passkey")


def test_a_prompt_closed_without_a_passkey_says_so_beside_the_button(
    live_server, base, page, authenticator
):
    # The authenticator holds no passkey for this site, so the browser's prompt ends unanswered.
    page.goto(base + "/login")
    page.get_by_role("button", name="Sign in with a passkey").click()
    error = page.locator("#passkey-login-error")
    expect(error).to_be_visible(timeout=20_000)
    expect(error).to_contain_text("closed or timed out")
    page.shots("passkey-prompt-failed")


def test_sign_in_with_a_passkey_in_the_middle_of_an_install(
    app, live_server, base, page, authenticator
):
    _sign_up_and_add_a_passkey(page, base, "Phone")
    page.get_by_role("button", name="Log out").click()

    chatgpt = make_oauth_client(app)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": chatgpt.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": "todos:read todos:write",
            "state": "install-42",
        }
    )
    page.goto(f"{base}/oauth/authorize?{query}")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_role("button", name="Sign in with a passkey").click()

    allow = page.get_by_role("button", name="Allow", exact=True)
    expect(allow).to_be_visible()
    expect(page.locator("main")).to_contain_text("ChatGPT")
    page.shots("consent-after-passkey")
    with page.expect_request(lambda request: request.url.startswith(REDIRECT_URI)) as sent:
        allow.click()
    params = parse_qs(urlsplit(sent.value.url).query)
    assert params["state"] == ["install-42"] and params["code"][0]


def test_the_passkey_pages_fit_a_phone_screen(live_server, base, page, authenticator):
    page.set_viewport_size({"width": 360, "height": 740})
    _sign_up_and_add_a_passkey(page, base, "A name long enough to wrap on a small screen")
    for path in ("/account", "/login"):
        page.goto(base + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, (path, width)


def test_sign_up_with_a_passkey_during_an_install_then_allow(
    app, live_server, base, page, authenticator
):
    cdp, authenticator_id = authenticator
    chatgpt = make_oauth_client(app)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": chatgpt.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": "todos:read todos:write",
            "state": "install-new",
        }
    )
    page.goto(f"{base}/oauth/authorize?{query}")
    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_text("Create an account to continue to ChatGPT.")).to_be_visible()

    # No address yet: the refusal sits beside the email field, and no passkey is made.
    page.get_by_role("button", name="Sign up with a passkey").click()
    expect(page.locator("#email-error")).to_have_text("This field is required.")
    page.shots("passkey-signup-needs-an-address")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_role("button", name="Sign up with a passkey").click()

    allow = page.get_by_role("button", name="Allow", exact=True)
    expect(allow).to_be_visible()
    expect(page.locator("main")).to_contain_text("ChatGPT")
    expect(page.get_by_text("Welcome! Your account is ready.")).to_be_visible()
    page.shots("consent-after-passkey-signup")
    [credential] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})[
        "credentials"
    ]
    assert credential["isResidentCredential"] and credential["rpId"] == "localhost"
    with page.expect_request(lambda request: request.url.startswith(REDIRECT_URI)) as sent:
        allow.click()
    params = parse_qs(urlsplit(sent.value.url).query)
    assert params["state"] == ["install-new"] and params["code"][0]
