"""The admin area in a real browser: an operator's rounds, and the pages on a phone."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.helpers import PASSWORD, REDIRECT_URI, make_user

ADMIN = "operator@example.com"


def log_in(page, base: str, target: str) -> None:
    page.goto(f"{base}/login?next={target}")
    page.get_by_label("Email").fill(ADMIN)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(base + target)


def test_an_operator_creates_rotates_and_disables_a_client(app, live_server, page):
    base = live_server.url
    make_user(app, ADMIN, is_admin=True)
    log_in(page, base, "/admin/")
    expect(page.get_by_role("heading", name="Admin")).to_be_visible()
    page.shots("admin-overview")

    page.get_by_role("navigation", name="Admin sections").get_by_role(
        "link", name="Clients"
    ).click()
    page.get_by_role("link", name="New client").click()
    page.get_by_label("Name").fill("ChatGPT")
    page.get_by_label("Redirect URIs").fill("http://evil.example.com/cb")
    page.get_by_role("button", name="Create client").click()
    expect(page.locator("#redirect_uris-error")).to_contain_text("must use https")
    page.shots("admin-client-bad-uri")
    page.get_by_label("Redirect URIs").fill(REDIRECT_URI)
    expect(page.get_by_label(re.compile("todos:read"))).to_be_checked()
    page.get_by_label(re.compile("todos:write")).uncheck()
    page.get_by_role("button", name="Create client").click()

    panel = page.get_by_role("region", name="Set up in ChatGPT")
    expect(panel).to_contain_text(f"{base}/oauth/authorize")
    expect(panel).to_contain_text(f"{base}/oauth/token")
    expect(panel).to_contain_text("Default (POST request)")
    first_secret = panel.locator("code.secret").inner_text()
    page.shots("admin-client-created")
    # Reloading the page that showed the secret creates nothing: it lands on the client's
    # page, which never shows the secret again (the list below ends empty after one delete).
    page.reload()
    expect(page.get_by_role("status")).to_contain_text("The secret was shown once")
    expect(page.locator("main")).not_to_contain_text(first_secret)
    expect(page.get_by_label(re.compile("todos:write"))).not_to_be_checked()

    page.get_by_label("Your current password").fill("wrong password")
    page.get_by_role("button", name="Rotate secret").click()
    expect(page.locator("#password-error")).to_contain_text("Your password is not correct")
    page.get_by_label("Your current password").fill(PASSWORD)
    page.get_by_role("button", name="Rotate secret").click()
    expect(page.locator("main")).to_contain_text("The old secret no longer works")
    second_secret = page.locator("code.secret").inner_text()
    assert second_secret and second_secret != first_secret
    page.shots("admin-client-rotated")

    page.get_by_role("link", name="Go to the client").click()
    page.wait_for_url(re.compile(r"/admin/clients/\d+$"), wait_until="load")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Disable client").click()
    expect(page.locator("h1 .badge")).to_have_text("Disabled")
    expect(page.get_by_role("status")).to_contain_text("is disabled")
    page.shots("admin-client-disabled")

    page.get_by_role("link", name="Delete this client…").click()
    page.get_by_role("button", name="Delete client").click()
    expect(page).to_have_url(base + "/admin/clients")
    expect(page.locator("main")).to_contain_text("No clients yet")

    page.get_by_role("link", name="Audit log").click()
    page.get_by_label("Event").fill("client.")
    page.get_by_role("button", name="Filter").click()
    table = page.locator("table.audit")
    for event in (
        "client.created",
        "client.secret_rotation_refused",
        "client.secret_rotated",
        "client.disabled",
        "client.deleted",
    ):
        expect(table).to_contain_text(event)
    expect(table).to_contain_text(ADMIN)
    page.shots("admin-audit")


def test_an_operator_helps_a_person_back_into_their_account(app, live_server, page):
    base = live_server.url
    make_user(app, ADMIN, is_admin=True)
    make_user(app, "forgetful@example.com")
    log_in(page, base, "/admin/users")
    page.get_by_label("Email contains").fill("forget")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="forgetful@example.com").click()
    page.get_by_role("button", name="Create a reset link").click()
    link = page.locator("p.secret code").inner_text()
    assert link.startswith(base + "/reset/")
    page.shots("admin-reset-link")

    page.goto(link)
    page.get_by_label("New password", exact=True).fill("my new long passphrase")
    page.get_by_label("Repeat the new password").fill("my new long passphrase")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.goto(link)
    expect(page.locator("main")).to_contain_text("invalid, expired or already used")


def test_the_admin_pages_fit_a_phone_screen(app, live_server, page):
    base = live_server.url
    make_user(app, ADMIN, is_admin=True)
    log_in(page, base, "/admin/")
    page.set_viewport_size({"width": 360, "height": 740})
    for path in (
        "/admin/",
        "/admin/clients/new",
        "/admin/users",
        "/admin/settings",
        "/admin/audit",
    ):
        page.goto(base + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (path, overflow)
    page.shots("admin-audit-phone")
