"""Journeys on the embedded default (no mail server: messages land in the outbox): a person
who forgot their password mid-install resets it and the install resumes; then they download
their data and delete their account."""

from __future__ import annotations

import json
import re

import sqlalchemy as sa
from playwright.sync_api import expect

from plugin.extensions import db
from plugin.mail.models import MailMessage
from tests.e2e.install import answer_consent, open_install
from tests.helpers import make_user

EMAIL = "forgetful@example.com"
NEW = "the passphrase I will remember"


def _link_in_outbox(app, path: str) -> str:
    with app.app_context():
        text = db.session.scalar(
            sa.select(MailMessage.body_text)
            .where(MailMessage.to_address == EMAIL)
            .order_by(MailMessage.id.desc())
        )
    return re.search(rf"http://\S+{path}\S+", text).group(0)


def test_forgot_password_during_an_install_then_it_resumes(
    app, live_server, page, chatgpt, catcher, chatgpt_client
):
    make_user(app, EMAIL)
    state = open_install(page, chatgpt, chatgpt_client)
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    page.get_by_label("Email").fill(EMAIL)
    page.shots("forgot-password")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_text("a link to choose a new password is on its way")).to_be_visible()
    page.shots("link-sent")

    page.goto(_link_in_outbox(app, "/reset/"))
    page.get_by_label("New password", exact=True).fill(NEW)
    page.get_by_label("Repeat the new password").fill(NEW)
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_text("Your new password is set.")).to_be_visible()
    page.shots("new-password-set")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(NEW)
    page.get_by_role("button", name="Log in").click()

    callback = answer_consent(page, catcher, "ChatGPT", "Allow")
    assert callback.params.get("state") == state, callback.params
    tokens = chatgpt.exchange_code(chatgpt_client, callback.params["code"])
    assert tokens["access_token"]


def test_download_my_data_then_delete_the_account(
    app, live_server, page, chatgpt, catcher, chatgpt_client
):
    make_user(app, EMAIL)
    page.goto(live_server.url + "/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()

    with page.expect_download() as download:
        page.get_by_role("button", name="Download my data").click()
    data = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert download.value.suggested_filename == "my-account.json"
    assert data["account"]["email"] == EMAIL and data["todos"] == []

    page.get_by_role("button", name="Delete my account").click()
    expect(page.locator("#understood-error")).to_have_text("Tick this box to confirm.")
    page.shots("delete-needs-confirmation")
    page.get_by_label("Your password").last.fill("correct horse battery staple")
    page.get_by_label("I understand").check()
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("Your account and everything in it are deleted.")).to_be_visible()
    page.shots("account-deleted")

    page.goto(live_server.url + "/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#password-error")).to_have_text("The email or password is not correct.")
