"""Error answers: programs get the JSON envelope, people get a page, nobody gets a traceback."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.exc import OperationalError


@pytest.fixture
def failing_app(app):
    """The app with two views that fail the way a bug or a lost database does."""

    def bug():
        raise RuntimeError("secret internals")

    def database_gone():
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    for prefix in ("/api/test", "/test"):
        app.add_url_rule(f"{prefix}/bug", f"{prefix}-bug", bug)
        app.add_url_rule(f"{prefix}/database", f"{prefix}-database", database_gone)
    return app


def test_a_bug_in_an_api_view_gets_the_json_envelope(failing_app, caplog):
    client = failing_app.test_client()
    with caplog.at_level(logging.ERROR, logger="plugin.errors"):
        response = client.get("/api/test/bug")
    assert response.status_code == 500
    assert response.get_json()["error"] == "server_error"
    assert "secret internals" not in response.get_data(as_text=True)
    assert "unhandled error on GET /api/test/bug" in caplog.text


def test_a_bug_in_a_page_gets_an_html_page_without_details(failing_app, caplog):
    with caplog.at_level(logging.ERROR, logger="plugin.errors"):
        response = failing_app.test_client().get("/test/bug")
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "Something went wrong" in page
    assert "secret internals" not in page and "Traceback" not in page


@pytest.mark.parametrize(
    ("path", "mimetype"),
    [("/api/test/database", "application/json"), ("/test/database", "text/html")],
)
def test_a_lost_database_answers_503_with_retry_after(failing_app, caplog, path, mimetype):
    with caplog.at_level(logging.ERROR, logger="plugin.errors"):
        response = failing_app.test_client().get(path)
    assert response.status_code == 503
    assert response.mimetype == mimetype
    assert response.headers["Retry-After"] == "5"
    assert "temporarily unavailable" in response.get_data(as_text=True).lower()


def test_a_wrong_method_lists_the_allowed_ones(client):
    response = client.delete("/healthz")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
