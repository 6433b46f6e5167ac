"""The client's setup panel and the Connections page in a real browser: copy buttons put the
value on the clipboard, and on a phone nothing scrolls sideways. Screenshots go to
test-artifacts/."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.helpers import PASSWORD, make_oauth_client, make_user
from tests.live_fixtures import Shots

ADMIN = "operator@example.com"
GPT_CALLBACK = "https://chatgpt.com/aip/g-123/oauth/callback"


def log_in(tab, base: str, target: str) -> None:
    tab.goto(f"{base}/login?next={target}")
    tab.get_by_label("Email").fill(ADMIN)
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Log in").click()
    expect(tab).to_have_url(base + target)


def test_copy_buttons_copy_each_setup_value(app, live_server, page):
    base = live_server.url
    make_user(app, ADMIN, is_admin=True)
    creds = make_oauth_client(app, redirect_uri=GPT_CALLBACK)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    log_in(page, base, f"/admin/clients/{creds.id}")

    panel = page.get_by_role("region", name="Set up in ChatGPT (GPT Action)")
    expect(panel).to_contain_text(f"{base}/oauth/token")
    expect(panel).not_to_contain_text("verification token")
    # A warning: this test server is plain http on this machine.
    expect(panel.get_by_role("note").first).to_contain_text("only public https hosts")
    for label, value in (
        ("Client ID", creds.client_id),
        ("Token URL", f"{base}/oauth/token"),
        ("Authorization URL", f"{base}/oauth/authorize"),
    ):
        button = panel.get_by_role("button", name=f"Copy {label}")
        button.click()
        expect(button).to_have_text("Copied")
        assert page.evaluate("navigator.clipboard.readText()") == value
    expect(page.locator("main")).not_to_contain_text(creds.client_secret)
    page.shots("client-setup-copied")
    # The skip link is the first thing a keyboard reaches on a fresh page.
    page.reload()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()


def test_on_a_phone_the_pages_fit_the_screen(app, live_server, browser, request):
    base = live_server.url
    make_user(app, ADMIN, is_admin=True)
    creds = make_oauth_client(app, redirect_uri=GPT_CALLBACK)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    tab = context.new_page()
    shots = Shots(tab, request.node.name)
    try:
        # A failed install to look at: ChatGPT sends a callback the client does not have.
        tab.goto(
            f"{base}/oauth/authorize?response_type=code&client_id={creds.client_id}"
            "&redirect_uri=https://chatgpt.com/aip/g-999/oauth/callback&state=s"
        )
        log_in(tab, base, "/admin/connections")
        expect(tab.locator("table.stack td[data-label='What happened']").first).to_contain_text(
            "is not registered for this client"
        )
        for path, name in (
            ("/admin/connections", "connections"),
            ("/admin/clients", "clients"),
            (f"/admin/clients/{creds.id}", "client"),
            ("/admin/audit", "audit"),
        ):
            tab.goto(base + path)
            overflow = tab.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
            shots(f"phone-{name}")
        assert tab.locator("link[rel=icon]").first.get_attribute("href").endswith("favicon.svg")
        assert tab.evaluate("fetch('/static/favicon.svg').then(r => r.status)") == 200
    finally:
        context.close()
