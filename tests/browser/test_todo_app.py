"""The todo list UI (MCP Apps) in a host shaped like ChatGPT's and Claude's, in a real browser.

The host page (127.0.0.1) runs the official AppBridge and MCP client; the UI runs in a
sandboxed iframe on another origin (localhost) under the CSP its resource declares; tool calls
go through the bridge to the live gunicorn server's /mcp with a real token (tests/browser/
apps_host.py). Screenshots land in test-artifacts/.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Frame, expect

from plugin.extensions import db
from plugin.todos import services
from plugin.todos.models import Todo
from tests.browser.apps_host import AppsHost
from tests.helpers import PASSWORD, make_token

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def host(app, live_server, user, oauth_client, node_clients) -> Iterator[AppsHost]:
    # The token a host holds after the person connected it: issued for the server's /mcp.
    token = make_token(app, user, oauth_client, resource=live_server.url + "/mcp")
    with app.app_context():
        person = db.session.get(type(user), user.id)
        services.create_todo(person, "Buy milk")
        services.create_todo(person, "Call the plumber", due_date=date(2027, 1, 15))
        services.create_todo(person, "Water the plants")
        db.session.commit()
    apps_host = AppsHost(node_clients, live_server.url + "/mcp", token["access_token"])
    yield apps_host
    apps_host.stop()


def open_ui(page, host: AppsHost, **options) -> Frame:
    page.goto(host.url(**options))
    page.wait_for_function("window.host && (window.host.ready || window.host.errors.length)")
    assert page.evaluate("window.host.errors") == []
    frame = page.frame(url=re.compile(r"/ui$"))
    assert frame is not None
    return frame


def todo(app, title: str) -> Todo | None:
    with app.app_context():
        return db.session.scalar(sa.select(Todo).where(Todo.title == title))


def eventually(check, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the server's data never changed"
        time.sleep(0.1)


def test_the_person_uses_their_todo_list_in_the_conversation(app, live_server, host, page):
    frame = open_ui(page, host)
    ui = page.frame_locator("iframe")
    resource = page.evaluate("window.host.resource")
    assert resource["mimeType"] == "text/html;profile=mcp-app"
    assert resource["meta"]["ui"]["csp"]["connectDomains"] == []

    # The tool result arrived through the bridge: the person's items, each labelled.
    for title in ("Buy milk", "Call the plumber", "Water the plants"):
        expect(ui.get_by_role("checkbox", name=title)).to_be_visible()
    expect(ui.get_by_text("due 15 Jan 2027")).to_be_visible()  # the host's locale, en-GB
    # The UI told the host its height (the App class's autoresize).
    assert max(page.evaluate("window.host.sizes")) > 100
    page.shots("list")

    # Marking one done, by keyboard: a tools/call through the bridge changes the server's data.
    milk = ui.get_by_role("checkbox", name="Buy milk")
    milk.focus()
    page.keyboard.press("Space")
    eventually(lambda: todo(app, "Buy milk").done)
    expect(milk).to_be_checked()
    called = [m["params"]["name"] for m in host.forwarded if m.get("method") == "tools/call"]
    assert "updateTodo" in called

    # Renaming one: Enter saves, the list is drawn again from the tool's answer.
    ui.get_by_role("button", name="Rename “Call the plumber”").click()
    field = ui.get_by_role("textbox", name="New title for “Call the plumber”")
    field.fill("Call the electrician")
    field.press("Enter")
    expect(ui.get_by_role("checkbox", name="Call the electrician")).to_be_visible()
    eventually(lambda: todo(app, "Call the electrician") is not None)

    # Adding one.
    ui.get_by_role("textbox", name="New todo").fill("Book the dentist")
    ui.get_by_role("button", name="Add").click()
    expect(ui.get_by_role("checkbox", name="Book the dentist")).to_be_visible()
    eventually(lambda: todo(app, "Book the dentist") is not None)
    page.shots("changed")

    # Deleting one shows the confirmation step; nothing is deleted until the person confirms.
    ui.get_by_role("button", name="Delete “Water the plants”").click()
    step = ui.get_by_role("region", name="Confirm the deletion")
    expect(step).to_be_visible()
    expect(step).to_contain_text("Nothing is deleted yet")
    page.shots("confirm-step")
    step.get_by_role("button", name="Open the confirmation page").click()
    page.wait_for_function("window.host.openedLinks.length > 0")
    (link,) = page.evaluate("window.host.openedLinks")
    assert link.startswith(live_server.url + "/confirm/")
    assert todo(app, "Water the plants") is not None

    # The person opens the link (the host opens it in a browser tab), signs in and confirms.
    tab = page.context.new_page()
    tab.goto(link)
    tab.get_by_label("Email").fill("person@example.com")
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Log in").click()
    tab.get_by_role("button", name="Confirm").click()
    eventually(lambda: todo(app, "Water the plants") is None)
    tab.close()
    step.get_by_role("button", name="Refresh the list").click()
    expect(ui.get_by_role("checkbox", name="Water the plants")).to_have_count(0)
    assert frame.evaluate("document.documentElement.dataset.theme") == "light"
    page.shots("after-delete")


def test_the_ui_follows_a_dark_phone_host_and_cannot_reach_outside(browser, live_server, host):
    context = browser.new_context(viewport={"width": 400, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        frame = open_ui(page, host, theme="dark", width=360, locale="en-US")
        ui = page.frame_locator("iframe")
        expect(ui.get_by_role("checkbox", name="Buy milk")).to_be_visible()
        # The host's theme and its style variables apply.
        assert frame.evaluate("document.documentElement.dataset.theme") == "dark"
        background = frame.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(33, 33, 33)"
        assert frame.evaluate("document.documentElement.lang") == "en-US"
        # Usable at phone width: nothing is wider than the frame.
        assert frame.evaluate("document.documentElement.scrollWidth <= innerWidth")
        page.screenshot(path=_artifact("dark-phone.png"), full_page=True)

        # The resource allows no outside connection, so the sandbox's CSP blocks one.
        outcome = frame.evaluate(
            """(url) => new Promise((resolve) => {
                document.addEventListener("securitypolicyviolation",
                    (event) => resolve(event.effectiveDirective), { once: true });
                fetch(url).then(() => resolve("reached"), () => {});
            })""",
            live_server.url + "/healthz",
        )
        assert outcome == "connect-src"

        # A theme change from the host is followed.
        page.evaluate("window.host.setTheme('light')")
        eventually(lambda: frame.evaluate("document.documentElement.dataset.theme") == "light")
    finally:
        context.close()


def _artifact(name: str) -> str:
    folder = ARTIFACTS / "test_the_ui_follows_a_dark_phone_host"
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / name)
