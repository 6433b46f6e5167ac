"""Admin → Audit log: every column, filters, and newest-first pages."""

from __future__ import annotations

import re

import pytest

from tests.audit.audit_helpers import seed_events


@pytest.fixture
def seeded(app, admin):
    # After the admin's login, so that the seeded events are the newest.
    return seed_events(app)


def events_on(html: str) -> list[str]:
    return re.findall(r'<td[^>]*><a href="/admin/audit\?event=[^"]+">([^<]+)</a></td>', html)


def test_the_page_shows_every_column_newest_first(admin, seeded):
    response = admin.get("/admin/audit")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    shown = events_on(html)
    assert shown[:3] == ["client.disabled", "user.login", "client.secret_rotated"]
    for text in (
        "2026-03-04 12:00 UTC",  # every time names its zone
        "2026-03-04 12:00",
        "ann@example.com",
        "user:1",
        "203.0.113.7",
        "Mozilla/5.0 ChatGPT-User/1.0",
        "conv-42",
        "name: ChatGPT",
    ):
        assert text in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("event=client.created", ["client.created"]),
        ("event=client.", ["client.disabled", "client.secret_rotated", "client.created"]),
        ("actor=ann", ["user.login", "user.signup"]),
        ("subject=client%3Aabc", ["client.secret_rotated", "client.created"]),
        ("date_from=2026-03-02&date_to=2026-03-03", ["client.secret_rotated", "client.created"]),
        ("actor=boss&date_from=2026-03-05", ["client.disabled"]),
        ("actor=nobody", []),
    ],
)
def test_filters(admin, seeded, query, expected):
    response = admin.get(f"/admin/audit?{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert events_on(html) == expected
    if not expected:
        assert "No events match these filters." in html


def test_bad_filters_are_form_errors(admin, seeded):
    response = admin.get("/admin/audit?date_from=yesterday")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="date_from-error"' in html and "Not a valid date value." in html
    response = admin.get("/admin/audit?date_from=2026-03-05&date_to=2026-03-01")
    assert response.status_code == 400
    assert "The end date is before the start date." in response.get_data(as_text=True)
    assert admin.get("/admin/audit?before=abc").status_code == 200


def test_older_pages_follow_the_newest(app, admin, seeded, monkeypatch):
    import plugin.admin.audit as page

    monkeypatch.setattr(page, "PER_PAGE", 2)
    html = admin.get("/admin/audit?event=client.").get_data(as_text=True)
    assert events_on(html) == ["client.disabled", "client.secret_rotated"]
    older = (
        re.search(r'href="([^"]+)" rel="next">Older events', html).group(1).replace("&amp;", "&")
    )
    assert "event=client." in older
    html = admin.get(older).get_data(as_text=True)
    assert events_on(html) == ["client.created"]
    assert "Older events" not in html and ">Newest</a>" in html
