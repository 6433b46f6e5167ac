"""The person's part of an install, in the browser: sign up on the way, then consent."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.chatgpt import Callback, CallbackCatcher, ChatGPT, Credentials
from tests.helpers import PASSWORD


def open_install(page, chatgpt: ChatGPT, credentials: Credentials) -> str:
    """Open the manifest's client_url with ChatGPT's parameters; return the state sent."""
    url, state = chatgpt.authorize_url(credentials)
    page.goto(url)
    return state


def sign_up(page, email: str, password: str = PASSWORD) -> None:
    """From the login page an install lands on, create an account."""
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.shots("install-login")
    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Repeat the password").fill(password)
    page.shots("install-signup")
    page.get_by_role("button", name="Create account").click()


def answer_consent(
    page,
    catcher: CallbackCatcher,
    client_name: str,
    button: str,
) -> Callback:
    """On the consent page, check what the person is shown, then press Allow or Deny."""
    choice = page.get_by_role("button", name=button, exact=True)
    expect(choice).to_be_visible()
    expect(page.locator("main")).to_contain_text(client_name)
    page.shots("consent")
    return catcher.follow(page, choice.click)


def install(
    page,
    chatgpt: ChatGPT,
    catcher: CallbackCatcher,
    credentials: Credentials,
    email: str,
    *,
    client_name: str = "ChatGPT",
    button: str = "Allow",
) -> tuple[Callback, str]:
    """Run the browser half of an install; return ChatGPT's callback and the state it sent."""
    state = open_install(page, chatgpt, credentials)
    sign_up(page, email)
    callback = answer_consent(page, catcher, client_name, button)
    assert callback.url.startswith(chatgpt.redirect_uri + "?"), callback.url
    assert callback.params.get("state") == state, (callback.params, state)
    return callback, state


def connect(
    page,
    chatgpt: ChatGPT,
    catcher: CallbackCatcher,
    credentials: Credentials,
    email: str,
    **options,
) -> dict:
    """A whole install: the browser half, then the code exchanged for tokens."""
    callback, _ = install(page, chatgpt, catcher, credentials, email, **options)
    return chatgpt.exchange_code(credentials, callback.params["code"])
