"""An item's link: a page with its OpenGraph preview; the details only for its owner."""

from __future__ import annotations

import re


def og(html: str, name: str) -> str | None:
    match = re.search(rf'<meta property="og:{name}" content="([^"]*)"', html)
    return match.group(1) if match else None


def test_preview_tags_are_in_the_first_html_and_hide_the_notes(client, api):
    item = api.create("Renew passport", notes="Number is X1234567", due_date="2031-03-01")
    path = item["url"].removeprefix("http://localhost")
    response = client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    head = html.split("</head>")[0]
    assert og(head, "site_name") == "Todo Plugin"
    assert og(head, "title") == "Renew passport"
    assert og(head, "description") == "Open todo in Todo Plugin."
    assert og(head, "image") == "http://localhost/logo.png"
    assert og(head, "url") == item["url"]
    assert "X1234567" not in html
    assert "2031" not in html
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_the_signed_in_owner_sees_everything(client, auth, api, user):
    item = api.create("Renew passport", notes="Number is X1234567", due_date="2031-03-01")
    auth.login(user.email)
    html = client.get(item["url"].removeprefix("http://localhost")).get_data(as_text=True)
    assert "Number is X1234567" in html
    assert "01 March 2031" in html
    assert "Open" in html


def test_someone_else_signed_in_sees_only_the_title(client, auth, api, other_user):
    item = api.create("Renew passport", notes="Number is X1234567")
    auth.login(other_user.email)
    html = client.get(item["url"].removeprefix("http://localhost")).get_data(as_text=True)
    assert "Renew passport" in html
    assert "X1234567" not in html
    assert "belongs to someone else" in html


def test_titles_are_escaped_in_the_preview(client, api):
    item = api.create('"><script>alert(1)</script>')
    html = client.get(item["url"].removeprefix("http://localhost")).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert og(html, "title") == "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"


def test_unknown_link_is_a_404_page(client):
    response = client.get("/t/" + "A" * 32)
    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True)
    assert response.mimetype == "text/html"
