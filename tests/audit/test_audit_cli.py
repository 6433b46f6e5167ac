"""``flask audit tail``: the newest events, oldest first, as lines or one JSON array."""

from __future__ import annotations

import json


def test_tail_prints_the_newest_events_oldest_first_one_per_line(runner, seeded):
    result = runner.invoke(args=["audit", "tail", "-n", "3"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("2026-03-03 11:00:00  client.secret_rotated  boss@example.com")
    assert "user.login  ann@example.com  user:1  203.0.113.7  conversation=conv-42" in lines[1]
    assert lines[2].startswith("2026-03-05 13:00:00  client.disabled")


def test_tail_shows_details_as_json_on_the_line(runner, seeded):
    result = runner.invoke(args=["audit", "tail", "--event", "client.created"])
    assert result.exit_code == 0
    assert result.output.strip().endswith('client:abc  203.0.113.7  {"name": "ChatGPT"}')


def test_tail_json_is_one_array(runner, seeded):
    result = runner.invoke(args=["audit", "tail", "--json", "--lines", "2"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [row["event"] for row in rows] == ["user.login", "client.disabled"]
    assert rows[0] == {
        "id": seeded[3],
        "time": "2026-03-04T12:00:00Z",
        "event": "user.login",
        "actor_id": None,
        "actor": "ann@example.com",
        "subject": "user:1",
        "ip": "203.0.113.7",
        "user_agent": "Mozilla/5.0 ChatGPT-User/1.0",
        "conversation_id": "conv-42",
        "details": {},
    }


def test_tail_filters_by_event_name_or_prefix(runner, seeded):
    result = runner.invoke(args=["audit", "tail", "--event", "client.", "--json"])
    assert [row["event"] for row in json.loads(result.output)] == [
        "client.created",
        "client.secret_rotated",
        "client.disabled",
    ]


def test_tail_defaults_to_twenty_and_says_when_there_is_nothing(runner, app):
    result = runner.invoke(args=["audit", "tail"])
    assert result.exit_code == 0 and result.output == "No audit events yet.\n"
    result = runner.invoke(args=["audit", "tail", "--event", "user.login"])
    assert result.output == "No audit events named 'user.login'.\n"
    assert json.loads(runner.invoke(args=["audit", "tail", "--json"]).output) == []


def test_tail_refuses_a_bad_count_with_one_clear_line(runner, seeded):
    for bad in ("0", "abc", "-5"):
        result = runner.invoke(args=["audit", "tail", "-n", bad])
        assert result.exit_code == 2
        assert "Invalid value for '-n' / '--lines'" in result.output
        assert "Traceback" not in result.output


def test_cl01_tail_prints_no_raw_control_characters(app, runner):
    from plugin.audit.models import AuditEvent
    from plugin.extensions import db

    with app.app_context():
        db.session.add(
            AuditEvent(
                event="user.login_failed",
                actor_email="x\x1b[31m@example.com",
                subject="user:1\r\n2026-03-05 13:00:00  client.deleted  boss@example.com",
                details={"email": "y\x1b]0;pwned\x07@example.com"},
                ip="203.0.113.7",
                conversation_id="conv\x9b1m",
            )
        )
        db.session.commit()
    result = runner.invoke(args=["audit", "tail"])
    assert result.exit_code == 0, result.output
    assert len(result.output.splitlines()) == 1
    for raw in ("\x1b", "\x07", "\r", "\x9b"):
        assert raw not in result.output
    assert "x\\x1b[31m@example.com  user:1\\r\\n2026-03-05" in result.output
    rows = json.loads(runner.invoke(args=["audit", "tail", "--json"]).output)
    assert rows[0]["actor"] == "x\x1b[31m@example.com"
