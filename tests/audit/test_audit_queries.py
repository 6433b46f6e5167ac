"""``query_events``: the one query behind the admin audit page and ``audit tail``."""

from __future__ import annotations

from datetime import datetime

from plugin.audit.services import count_events, event_types, query_events, record
from plugin.extensions import db


def names(rows) -> list[str]:
    return [row.event for row in rows]


def test_newest_first_with_each_filter(app, seeded):
    with app.app_context():
        assert names(query_events()) == [
            "client.disabled",
            "user.login",
            "client.secret_rotated",
            "client.created",
            "user.signup",
        ]
        assert names(query_events(event="user.login")) == ["user.login"]
        assert names(query_events(event="client.")) == [
            "client.disabled",
            "client.secret_rotated",
            "client.created",
        ]
        assert names(query_events(event="user*")) == ["user.login", "user.signup"]
        assert names(query_events(event="client")) == []
        assert names(query_events(actor="ANN@")) == ["user.login", "user.signup"]
        assert names(query_events(subject="client:abc")) == [
            "client.secret_rotated",
            "client.created",
        ]
        since, until = datetime(2026, 3, 2), datetime(2026, 3, 4)
        assert names(query_events(since=since, until=until)) == [
            "client.secret_rotated",
            "client.created",
        ]
        assert names(query_events(actor="boss", since=since, until=until, event="client.")) == [
            "client.secret_rotated",
            "client.created",
        ]


def test_paging_with_before_id_and_limit(app, seeded):
    with app.app_context():
        first = query_events(limit=2)
        assert names(first) == ["client.disabled", "user.login"]
        second = query_events(limit=2, before_id=first[-1].id)
        assert names(second) == ["client.secret_rotated", "client.created"]
        assert names(query_events(limit=2, before_id=second[-1].id)) == ["user.signup"]


def test_like_wildcards_in_filters_match_literally(app, seeded):
    with app.app_context():
        assert query_events(actor="%") == []
        assert query_events(actor="_nn") == []
        assert query_events(event="%.") == []


def test_counts_and_event_names(app, seeded):
    with app.app_context():
        assert count_events() == 5
        assert count_events(since=datetime(2026, 3, 4)) == 2
        assert event_types() == [
            "client.created",
            "client.disabled",
            "client.secret_rotated",
            "user.login",
            "user.signup",
        ]


def test_record_outside_a_request_has_no_request_fields(app):
    with app.app_context():
        record("settings.changed", subject="setting:x", cleared=True)
        db.session.commit()
        (row,) = query_events()
        assert (row.ip, row.user_agent, row.conversation_id) == (None, None, None)
        assert row.details == {"cleared": True}
