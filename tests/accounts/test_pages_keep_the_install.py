"""CONTRACT §8: every link and form on the people's pages carries the pending install
(``next``), the site header's included, so that no detour drops it."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from tests.helpers import PASSWORD, csrf_token_from

AUTHORIZE = "/oauth/authorize?response_type=code&client_id=abc&state=xyz"
# Pages that leave the flow on purpose: they read, they do not continue an install.
ELSEWHERE = ("/", "/account", "/privacy", "/terms", "/support")


class Targets(HTMLParser):
    """Every link's href and every form's action and hidden ``next``."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href", "").startswith("/"):
            self.links.append(attributes["href"])
        elif tag == "form":
            self.forms.append({"action": attributes.get("action"), "next": None})
        elif tag == "input" and attributes.get("name") == "next" and self.forms:
            self.forms[-1]["next"] = attributes.get("value")


def _carries(url: str) -> bool:
    return url == AUTHORIZE or parse_qs(urlsplit(url).query).get("next") == [AUTHORIZE]


def assert_every_target_keeps_the_install(html: str) -> Targets:
    targets = Targets()
    targets.feed(html)
    assert targets.forms, "the page has no form"
    for href in targets.links:
        if urlsplit(href).path in ELSEWHERE or href.startswith("/static/"):
            continue
        assert _carries(href), f"the link {href} drops the install"
    for form in targets.forms:
        # A form without an action posts back to this page's own URL, which carries it.
        kept = form["action"] is None or _carries(form["action"]) or form["next"] == AUTHORIZE
        assert kept, f"the form posting to {form['action']} drops the install"
    return targets


@pytest.mark.parametrize("path", ["/login", "/signup", "/forgot-password"])
def test_the_pages_before_signing_in_keep_the_install(client, path):
    page = client.get(f"{path}?next={quote(AUTHORIZE)}")
    assert page.status_code == 200
    targets = assert_every_target_keeps_the_install(page.get_data(as_text=True))
    # The header's links in particular (the detour issue 24 found) are among them.
    assert {"/login", "/signup"} <= {urlsplit(href).path for href in targets.links}


def test_a_login_refused_keeps_the_install(client, user):
    path = f"/login?next={quote(AUTHORIZE)}"
    token = csrf_token_from(client.get(path).get_data(as_text=True))
    page = client.post(path, data={"email": user.email, "password": "wrong", "csrf_token": token})
    assert page.status_code == 200
    assert_every_target_keeps_the_install(page.get_data(as_text=True))


def test_the_pages_while_signed_in_keep_the_install(auth, client, user):
    assert auth.login(user.email).status_code == 303
    for path in ("/login", "/verify-email"):
        page = client.get(f"{path}?next={quote(AUTHORIZE)}")
        assert page.status_code == 200, path
        assert_every_target_keeps_the_install(page.get_data(as_text=True))


def test_logging_out_in_the_middle_of_an_install_leads_to_the_login_page(auth, client, user):
    auth.login(user.email)
    page = client.get(f"/login?next={quote(AUTHORIZE)}").get_data(as_text=True)
    response = client.post(
        f"/logout?next={quote(AUTHORIZE)}", data={"csrf_token": csrf_token_from(page)}
    )
    assert response.status_code == 303
    assert _carries(response.headers["Location"])
    assert urlsplit(response.headers["Location"]).path == "/login"
    assert auth.login(user.email, PASSWORD, next=quote(AUTHORIZE)).headers["Location"] == AUTHORIZE
