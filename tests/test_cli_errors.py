"""CLI commands and pages answer a database that is unreachable, missing or has no tables
in one clear, correct line."""

from __future__ import annotations

import subprocess
import sys
import uuid

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


@pytest.fixture
def app_for():
    """Build an app on any database URL; its connections are closed afterwards."""
    from plugin import create_app
    from tests.helpers import base_config

    apps = []

    def make(url: str):
        app = create_app(base_config(url))
        apps.append(app)
        return app

    yield make
    for app in apps:
        with app.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("args", [["clients", "list"], ["clients", "show", "x"]])
def test_a_missing_schema_says_to_run_db_upgrade(unmigrated, runner, args):
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: The database has no tables yet: run `flask --app plugin db upgrade` first."
    )


def test_a_page_on_a_missing_schema_is_503_and_the_log_says_what_to_do(unmigrated, client, caplog):
    response = client.get("/oauth/authorize?response_type=code&client_id=abc")
    assert response.status_code == 503
    assert "Traceback" not in response.get_data(as_text=True)
    assert any("run `flask --app plugin db upgrade`" in r.getMessage() for r in caplog.records)


UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"


def missing_postgres_database() -> str:
    from tests.helpers import POSTGRES_URL

    name = "plugin_never_created_" + uuid.uuid4().hex[:8]
    return sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def flask_command(args: list[str], database_url: str, tmp_path) -> subprocess.CompletedProcess:
    """Run ``flask --app plugin ARGS`` as an operator does, in production mode."""
    from tests.servers import ROOT, SECRET_KEY, clean_env

    env = clean_env(
        DATABASE_URL=database_url, SECRET_KEY=SECRET_KEY, PLUGIN_INSTANCE_PATH=str(tmp_path)
    )
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "plugin", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def only_line(result: subprocess.CompletedProcess) -> str:
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert result.returncode == 1, lines
    assert len(lines) == 1, lines
    return lines[0]


COMMANDS = [["db", "upgrade"], ["users", "list"], ["clients", "show", "abc"], ["audit", "tail"]]


def unreachable_line(line: str) -> None:
    assert line.startswith("Error: Cannot use the database (connection failed: ")
    assert line.endswith("check DATABASE_URL and that it is running.")


def never_created_line(line: str, url: str) -> None:
    name = sa.make_url(url).database
    assert line == (
        f'Error: The database "{name}" does not exist on its server: '
        f"create it (createdb {name}) or check DATABASE_URL."
    )


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_an_unreachable_database_is_one_line_for_every_command(args, app_for):
    result = app_for(UNREACHABLE).test_cli_runner().invoke(args=args)
    assert result.exit_code == 1
    unreachable_line(result.output.strip())


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_postgres_database_never_created_is_named_not_mistaken_for_no_tables(args, app_for):
    url = missing_postgres_database()
    result = app_for(url).test_cli_runner().invoke(args=args)
    assert result.exit_code == 1
    never_created_line(result.output.strip(), url)


def test_the_migration_command_says_it_in_one_line_with_no_traceback(tmp_path):
    # As the operator runs it: Flask-Migrate's command, logging configured by Alembic.
    unreachable_line(only_line(flask_command(["db", "upgrade"], UNREACHABLE, tmp_path)))
    url = missing_postgres_database()
    never_created_line(only_line(flask_command(["db", "upgrade"], url, tmp_path)), url)


@pytest.mark.parametrize("args", [["users", "list"], ["clients", "list"]], ids=" ".join)
def test_a_missing_sqlite_file_is_named_and_not_created(args, tmp_path, app_for):
    path = tmp_path / "typo" / "plugin.db"
    result = app_for(f"sqlite:///{path}").test_cli_runner().invoke(args=args)
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: The database file {path} does not exist: check DATABASE_URL, "
        "or create it with `flask --app plugin db upgrade`."
    )
    assert not path.exists()


def test_db_upgrade_creates_a_missing_sqlite_file(tmp_path, app_for):
    path = tmp_path / "new" / "plugin.db"
    result = app_for(f"sqlite:///{path}").test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert path.exists()


def test_a_page_on_a_database_never_created_is_503_and_the_log_names_it(app_for, caplog):
    url = missing_postgres_database()
    response = app_for(url).test_client().get("/oauth/authorize?response_type=code&client_id=abc")
    assert response.status_code == 503
    name = sa.make_url(url).database
    messages = [r.getMessage() for r in caplog.records]
    assert f'database unavailable: The database "{name}" does not exist on its server' in (
        "\n".join(messages)
    )
    assert not any("db upgrade" in message for message in messages)
