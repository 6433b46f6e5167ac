"""One log line per request, with a request id, and never a secret."""

from __future__ import annotations

import json
import logging
import sys

import pytest
from flask import Blueprint

from plugin.logs import formatter


@pytest.fixture
def request_records(caplog):
    caplog.set_level(logging.INFO, logger="plugin.requests")

    def records():
        return [r for r in caplog.records if r.name == "plugin.requests"]

    return records


def test_each_request_is_logged_once_with_an_echoed_request_id(client, request_records):
    response = client.get("/healthz")
    (record,) = request_records()
    request_id = response.headers["X-Request-ID"]
    assert len(request_id) >= 16
    assert record.request_id == request_id
    assert (record.method, record.path, record.status) == ("GET", "/healthz", 200)
    assert record.duration_ms >= 0
    line = formatter("text").format(record)
    assert "plugin.requests: GET /healthz 200 " in line
    assert f"request_id={request_id}" in line
    assert "\n" not in line


def test_a_sane_incoming_request_id_is_kept_and_a_strange_one_replaced(client, request_records):
    kept = client.get("/healthz", headers={"X-Request-ID": "lb-1234abcd-5678"})
    assert kept.headers["X-Request-ID"] == "lb-1234abcd-5678"
    replaced = client.get("/healthz", headers={"X-Request-ID": "x; Set-Cookie: a=b <script>"})
    assert replaced.headers["X-Request-ID"] != "x"
    assert "<" not in replaced.headers["X-Request-ID"]
    assert [r.request_id for r in request_records()] == [
        "lb-1234abcd-5678",
        replaced.headers["X-Request-ID"],
    ]


def test_query_strings_headers_and_bodies_are_never_logged(client, request_records, caplog):
    secrets_sent = ("code-SECRET1", "state-SECRET2", "Bearer-SECRET3", "sid-SECRET4", "pw-SECRET5")
    client.set_cookie("session", "sid-SECRET4")
    client.get(
        "/oauth/authorize?code=code-SECRET1&state=state-SECRET2",
        headers={"Authorization": "Bearer Bearer-SECRET3"},
    )
    client.post("/login?next=/x", data={"password": "pw-SECRET5"})
    client.post("/oauth/token", data={"code": "code-SECRET1"})
    paths = [r.path for r in request_records()]
    assert paths == ["/oauth/authorize", "/login", "/oauth/token"]
    everything = caplog.text + "".join(
        formatter(kind).format(r) for r in caplog.records for kind in ("text", "json")
    )
    for secret in secrets_sent:
        assert secret not in everything


secret_link = Blueprint("secret_link", __name__)


@secret_link.get("/shared-probe/<token>")
def shared_probe(token):
    return token


def test_secrets_in_the_path_are_logged_as_the_route_pattern(app, request_records):
    app.register_blueprint(secret_link)
    app.test_client().get("/shared-probe/LINK-SECRET6")
    (record,) = request_records()
    assert record.path == "/shared-probe/<token>"
    assert "LINK-SECRET6" not in formatter("text").format(record)


def test_chatgpt_conversation_headers_are_logged(client, request_records):
    client.get(
        "/healthz",
        headers={
            "openai-conversation-id": "conv-123",
            "openai-ephemeral-user-id": "eph-456",
        },
    )
    (record,) = request_records()
    assert record.conversation_id == "conv-123"
    assert record.ephemeral_user_id == "eph-456"


def test_json_format_is_one_object_per_line(client, request_records):
    client.get("/healthz", headers={"X-Request-ID": "abcdef123456"})
    (record,) = request_records()
    line = formatter("json").format(record)
    assert "\n" not in line
    body = json.loads(line)
    assert body["request_id"] == "abcdef123456"
    assert body["path"] == "/healthz"
    assert body["status"] == 200
    assert body["level"] == "INFO"


def test_the_signed_in_user_is_named_in_the_line(client, auth, user, request_records):
    response = auth.login()
    assert response.status_code in (302, 303)
    client.get("/account")
    account_line = [r for r in request_records() if r.path == "/account"][-1]
    assert account_line.user_id == user.id


def test_log_format_must_be_text_or_json(app_config):
    from plugin import create_app

    with pytest.raises(SystemExit, match="LOG_FORMAT"):
        create_app({**app_config, "LOG_FORMAT": "xml"})


# --- LG-01: nothing a caller sends can forge a log line ------------------------------------

FORGED = "1999-12-31 23:59:59,000 INFO plugin.requests: GET /admin/ 200 1.0ms user_id=1"


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_lg01_a_line_break_in_the_path_cannot_forge_a_log_line(client, request_records, log_format):
    client.get("/x%0a" + FORGED.replace(" ", "%20") + "%1b[2J")
    (record,) = request_records()
    line = formatter(log_format).format(record)
    assert "\n" not in line and "\x1b" not in line
    path = json.loads(line)["path"] if log_format == "json" else line
    assert "/x\\n1999-12-31" in path and "\\x1b[2J" in path


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_lg01_messages_fields_and_exception_texts_are_escaped(log_format):
    try:
        raise ValueError("bad value\n" + FORGED)
    except ValueError:
        record = logging.LogRecord(
            "plugin.test", logging.ERROR, __file__, 1, "for %s", ("a\nb",), sys.exc_info()
        )
    record.email = "x@example.com\r\nBcc: y@example.com"
    text = formatter(log_format).format(record)
    lines = text.splitlines() if log_format == "text" else json.loads(text)["exception"].split("\n")
    assert not any(line.startswith("1999-12-31") for line in lines)
    assert "ValueError: bad value\\n1999-12-31" in lines[-1]
    if log_format == "text":
        assert lines[0].endswith("for a\\nb email=x@example.com\\r\\nBcc: y@example.com")
    else:
        body = json.loads(text)
        assert body["message"] == "for a\\nb"
        assert body["email"] == "x@example.com\\r\\nBcc: y@example.com"


# --- LG-02: a database error is logged without the values it was sent -------------------

HASH = "$argon2id$v=19$m=19456,t=2,p=1$SALT-IN-THE-LOG$HASH-IN-THE-LOG"


def test_lg02_a_database_error_logs_no_parameters_and_no_row(app, caplog):
    from plugin.accounts.models import User
    from plugin.extensions import db

    def insert_without_email():
        db.session.add(User(email=None, password_hash=HASH))
        db.session.commit()

    app.add_url_rule("/test/insert", "test-insert", insert_without_email)
    with caplog.at_level(logging.ERROR, logger="plugin.errors"):
        response = app.test_client().get("/test/insert")
    assert response.status_code == 500
    (record,) = [r for r in caplog.records if r.name == "plugin.errors"]
    for log_format in ("text", "json"):
        text = formatter(log_format).format(record)
        assert "IntegrityError" in text and "INSERT INTO users" in text
        assert "SALT-IN-THE-LOG" not in text and "HASH-IN-THE-LOG" not in text
    # SQLAlchemy itself no longer lists the values in the error's text (PostgreSQL's own
    # DETAIL line still quotes the row: the log formatters keep only the first line).
    assert "[SQL parameters hidden due to hide_parameters=True]" in str(record.exc_info[1])


def test_lg01_gunicorns_access_log_cannot_be_forged(gunicorn_factory, server_env, tmp_path):
    import requests

    access_log = tmp_path / "access.log"
    server = gunicorn_factory({**server_env, "GUNICORN_ACCESS_LOG": str(access_log)})
    requests.get(server.url + "/x%0a" + FORGED.replace(" ", "%20"), timeout=10)
    server.stop()
    lines = access_log.read_text().splitlines()
    assert any("/x\\n1999-12-31" in line for line in lines), lines
    assert not any(line.startswith("1999-12-31") for line in lines)
