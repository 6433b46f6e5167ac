"""Journey 5: ChatGPT asks to delete an item; the owner confirms it on the confirmation page."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.api_tour import action_operations, action_path
from tests.e2e.install import connect
from tests.e2e.openapi_calls import ApiDocument, item_path

TITLE = "Return the library books"


def test_delete_happens_only_after_the_owner_confirms_in_the_browser(
    live_server, page, chatgpt, catcher, chatgpt_client
):
    token = connect(page, chatgpt, catcher, chatgpt_client, "confirmer@example.com")["access_token"]
    document = ApiDocument(chatgpt)
    item = document.call("createTodo", token, 201, body={"title": TITLE}).json()

    pending = document.call("deleteTodo", token, 202, path=item_path(item)).json()
    assert pending["status"] == "pending_confirmation", pending
    assert pending["expires_at"], pending
    document.call("getTodo", token, 200, path=item_path(item))

    page.goto(pending["confirm_url"])
    expect(page.locator("main")).to_contain_text(TITLE)
    page.shots("confirm-page")
    page.get_by_role("button", name=re.compile(r"^(confirm|delete|yes)", re.IGNORECASE)).click()
    expect(page.locator("main")).to_contain_text(re.compile(r"confirmed|deleted|done", re.I))
    page.shots("confirmed")

    document.call("getTodo", token, 404, path=item_path(item))
    assert _action_status(document, token, pending) == "confirmed"
    # The link is spent: opening it again shows the outcome, with nothing left to confirm.
    page.goto(pending["confirm_url"])
    expect(page.get_by_role("button", name=re.compile("^confirm", re.I))).to_have_count(0)
    page.shots("confirm-link-spent")


def _action_status(document: ApiDocument, token: str, pending: dict) -> str:
    """The action's status as ChatGPT can read it: the documented operation or its status URL."""
    operations = action_operations(document)
    if operations:
        return document.call(operations[0], token, 200, path=action_path(pending)).json()["status"]
    answer = document.chatgpt.api("GET", pending["status_url"], token)
    assert answer.status == 200, answer
    return answer.json()["status"]
