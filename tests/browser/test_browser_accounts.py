"""The accounts journey in a real browser: sign up, log out, log in, change the password."""

from __future__ import annotations

import re

from playwright.sync_api import expect

EMAIL = "browser.person@example.com"
FIRST = "first browser passphrase"
SECOND = "second browser passphrase"


def _log_in(page, base: str, password: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_sign_up_log_out_log_in_change_password(live_server, page):
    base = live_server.url
    page.goto(base + "/")
    page.shots("home")
    page.get_by_role("link", name="Create an account").click()
    expect(page).to_have_url(base + "/signup")

    # A mistake first: the error appears beside its field.
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Repeat the password").fill("short")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#password-error")).to_contain_text("Use at least 8 characters")
    expect(page.get_by_label("Password", exact=True)).to_have_attribute("aria-invalid", "true")
    page.shots("signup-error")

    page.get_by_label("Password", exact=True).fill(FIRST)
    page.get_by_label("Repeat the password").fill(FIRST)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(base + "/account")
    expect(page.get_by_text("Welcome! Your account is ready.")).to_be_visible()
    page.shots("account-after-signup")

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(base + "/")
    expect(page.get_by_role("navigation").get_by_role("link", name="Log in")).to_be_visible()
    page.shots("logged-out")

    _log_in(page, base, FIRST)
    expect(page).to_have_url(base + "/account")
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()

    page.get_by_label("Current password").fill(FIRST)
    page.get_by_label("New password", exact=True).fill(SECOND)
    page.get_by_label("Repeat the new password").fill(SECOND)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your password is changed.")).to_be_visible()
    page.shots("password-changed")

    page.get_by_role("button", name="Log out").click()
    _log_in(page, base, FIRST)
    expect(page.locator("#password-error")).to_have_text("The email or password is not correct.")
    page.shots("old-password-refused")
    _log_in(page, base, SECOND)
    expect(page).to_have_url(base + "/account")
    expect(page.get_by_text(EMAIL).first).to_be_visible()
    page.shots("logged-in-with-new-password")


def test_pages_fit_a_phone_screen(live_server, page):
    page.set_viewport_size({"width": 360, "height": 740})
    for path in ("/", "/signup", "/login"):
        page.goto(live_server.url + path)
        # Nothing wider than the screen: no sideways scrolling on a phone.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, (path, width)
        page.shots("phone-" + (re.sub(r"\W", "", path) or "home"))
