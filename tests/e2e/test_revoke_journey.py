"""Journey 4: a person revokes the connected app on /account; ChatGPT's tokens stop working."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.install import connect
from tests.e2e.openapi_calls import ApiDocument

REVOKE = re.compile(r"revoke|disconnect|remove access", re.IGNORECASE)


def test_revoking_the_app_on_the_account_page_ends_its_tokens(
    live_server, page, chatgpt, catcher, chatgpt_client
):
    tokens = connect(page, chatgpt, catcher, chatgpt_client, "revoker@example.com")
    document = ApiDocument(chatgpt)
    document.call("getMe", tokens["access_token"], 200)

    page.goto(live_server.url + "/account")
    expect(page.get_by_role("heading", name="Connected apps")).to_be_visible()
    expect(page.locator("main")).to_contain_text("ChatGPT")
    revoke = page.get_by_role("button", name=REVOKE)
    expect(revoke).to_have_count(1)
    page.shots("account-connected-app")
    page.on("dialog", lambda dialog: dialog.accept())
    revoke.click()
    expect(page.get_by_role("button", name=REVOKE)).to_have_count(0)
    page.shots("account-after-revoke")

    answer = document.call("getMe", tokens["access_token"], 401)
    assert 'error="invalid_token"' in answer.headers["www-authenticate"], answer.headers
    refresh = chatgpt.refresh(chatgpt_client, tokens["refresh_token"])
    assert refresh.status == 400 and refresh.json()["error"] == "invalid_grant", refresh
