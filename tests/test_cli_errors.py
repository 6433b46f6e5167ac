"""CLI commands and pages answer a database that is missing or has no tables clearly."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from plugin.extensions import db


@pytest.fixture
def unmigrated(app):
    """The test database with one table the commands need dropped, restored afterwards."""
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            connection.execute(sa.text("ALTER TABLE oauth_clients RENAME TO oauth_clients_away"))
    yield app
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            connection.execute(sa.text("ALTER TABLE oauth_clients_away RENAME TO oauth_clients"))


@pytest.mark.parametrize("args", [["clients", "list"], ["clients", "show", "x"]])
def test_a_missing_schema_says_to_run_db_upgrade(unmigrated, runner, args):
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: The database has no tables yet: run `flask --app plugin db upgrade` first."
    )


def test_an_unreachable_database_is_one_line():
    from plugin import create_app
    from tests.conftest import base_config

    url = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"
    app = create_app(base_config(url))
    result = app.test_cli_runner().invoke(args=["users", "list"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: Cannot use the database (")
    assert "check DATABASE_URL" in lines[0]


def test_a_page_on_a_missing_schema_is_503_and_the_log_says_what_to_do(unmigrated, client, caplog):
    response = client.get("/oauth/authorize?response_type=code&client_id=abc")
    assert response.status_code == 503
    assert "Traceback" not in response.get_data(as_text=True)
    assert any("run `flask --app plugin db upgrade`" in r.getMessage() for r in caplog.records)
