"""Journey 3: an admin creates ChatGPT's client in the admin area; an install works with it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.chatgpt import CallbackCatcher, Credentials
from tests.e2e.install import connect
from tests.e2e.openapi_calls import ApiDocument
from tests.helpers import PASSWORD
from tests.live_fixtures import Shots

ADMIN = "operator@example.com"


def _shown(text: str, label: str) -> str:
    match = re.search(label + r"\s*:?\s*(\S+)", text, re.IGNORECASE)
    assert match, f"no {label} on the page: {text}"
    return match.group(1)


def test_admin_creates_a_client_and_an_install_completes_with_it(
    live_server, browser, page, catcher, chatgpt, make_admin, request
):
    base = live_server.url
    make_admin(ADMIN)
    page.goto(base + "/login?next=/admin/clients")
    page.get_by_label("Email").fill(ADMIN)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(base + "/admin/clients")
    page.shots("admin-clients")

    page.get_by_role(
        "link", name=re.compile(r"new client|create a client|add a client", re.I)
    ).click()
    page.get_by_label("Name").fill("ChatGPT for the team")
    page.get_by_label(re.compile("redirect", re.I)).fill(chatgpt.redirect_uri)
    page.shots("admin-new-client")
    page.get_by_role("button", name=re.compile("create", re.I)).click()
    main = page.locator("main")
    expect(main).to_contain_text(chatgpt.redirect_uri)
    page.shots("admin-client-created")
    text = main.inner_text()
    credentials = Credentials(_shown(text, "client id"), _shown(text, "client secret"))

    # Someone else, in their own browser, installs the plugin ChatGPT was configured with.
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    try:
        person = context.new_page()
        person.set_default_timeout(10_000)
        person.shots = Shots(person, request.node.name + "-person")
        person_catcher = CallbackCatcher(context)
        tokens = connect(
            person,
            chatgpt,
            person_catcher,
            credentials,
            "team.member@example.com",
            client_name="ChatGPT for the team",
        )
        assert not person_catcher.leaks, person_catcher.leaks
    finally:
        context.close()
    me = ApiDocument(chatgpt).call("getMe", tokens["access_token"], 200).json()
    assert me["email"] == "team.member@example.com", me
