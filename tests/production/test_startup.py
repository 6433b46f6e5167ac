"""Bad configuration stops gunicorn and the migration command with one clear line."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import tempfile

import pytest
import requests

from tests.servers import ROOT, SECRET_KEY, clean_env, free_port, wait_for_port

ENV_EXAMPLE_SECRET_KEY = next(
    line.removeprefix("SECRET_KEY=")
    for line in (ROOT / "deploy" / "env.example").read_text().splitlines()
    if line.startswith("SECRET_KEY=")
)

BAD_SETTINGS = [
    pytest.param(
        {"DATABASE_URL": "not a url", "SECRET_KEY": SECRET_KEY},
        "DATABASE_URL",
        id="unparseable-database-url",
    ),
    pytest.param(
        {"DATABASE_URL": "mysql://u@localhost/db", "SECRET_KEY": SECRET_KEY},
        "DATABASE_URL",
        id="unsupported-database",
    ),
    pytest.param({}, "SECRET_KEY", id="missing-secret-key"),
    pytest.param({"SECRET_KEY": ENV_EXAMPLE_SECRET_KEY}, "SECRET_KEY", id="placeholder-secret-key"),
    pytest.param(
        {"SECRET_KEY": SECRET_KEY, "REDIS_URL": "localhost:6379"}, "REDIS_URL", id="bad-redis-url"
    ),
]


def run(command: list[str], settings: dict[str, str], instance_path) -> subprocess.CompletedProcess:
    env = clean_env(
        PLUGIN_INSTANCE_PATH=str(instance_path), PORT=str(free_port()), WEB_CONCURRENCY="2"
    )
    env.update(settings)
    if "DATABASE_URL" not in settings:
        env["DATABASE_URL"] = f"sqlite:///{instance_path / 'plugin.db'}"
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30, check=False
    )


def assert_one_clear_line(result: subprocess.CompletedProcess, variable: str) -> None:
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert result.returncode != 0
    assert len(lines) == 1, lines
    assert lines[0].startswith("Configuration error: "), lines
    assert variable in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("settings", "variable"), BAD_SETTINGS)
def test_gunicorn_refuses_to_start(settings, variable, instance_path):
    # With a bad setting the workers could never boot; gunicorn must not start any.
    result = run([sys.executable, "-m", "gunicorn", "wsgi:app"], settings, instance_path)
    assert_one_clear_line(result, variable)
    assert "Booting worker" not in result.stderr


@pytest.mark.parametrize(("settings", "variable"), BAD_SETTINGS)
def test_db_upgrade_refuses_to_start(settings, variable, instance_path):
    command = [sys.executable, "-m", "flask", "--app", "plugin", "db", "upgrade"]
    assert_one_clear_line(run(command, settings, instance_path), variable)


def test_bad_gunicorn_setting_names_the_variable(instance_path):
    # (A non-numeric WEB_CONCURRENCY is read by gunicorn itself, before our settings file.)
    settings = {"SECRET_KEY": SECRET_KEY, "GUNICORN_THREADS": "lots"}
    result = run([sys.executable, "-m", "gunicorn", "wsgi:app"], settings, instance_path)
    assert_one_clear_line(result, "GUNICORN_THREADS")


def test_a_development_key_is_not_needed_in_production(instance_path):
    # The same folder with a key file kept from development starts fine: the key is used.
    (instance_path / "secret_key").write_text(SECRET_KEY)
    command = [sys.executable, "-m", "flask", "--app", "plugin", "db", "upgrade"]
    result = run(command, {}, instance_path)
    assert result.returncode == 0, result.stderr
    assert (instance_path / "plugin.db").exists()


def start_and_stop(settings: dict[str, str], instance_path) -> list[str]:
    """Start gunicorn, wait until its worker answers, stop it; return the lines it logged."""
    port = free_port()
    env = clean_env(
        PLUGIN_INSTANCE_PATH=str(instance_path),
        PORT=str(port),
        WEB_CONCURRENCY="1",
        GUNICORN_GRACEFUL_TIMEOUT="2",
    )
    env.update(settings)
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
        try:
            wait_for_port(port)
            # Any answer (503 while the database is down) means the worker has booted.
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=15)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.seek(0)
        return log.read().splitlines()


def warnings_in(lines: list[str]) -> list[str]:
    return [line.split("[WARNING] ", 1)[1] for line in lines if "[WARNING] " in line]


def test_start_up_warns_once_about_each_thing_that_will_not_work(instance_path):
    settings = {
        "SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/plugin",
        "REDIS_URL": f"redis://:hunter2@127.0.0.1:{free_port()}/0",
    }
    lines = start_and_stop(settings, instance_path)
    assert not any("Traceback" in line for line in lines), lines
    warnings = warnings_in(lines)
    assert len(warnings) == 4, warnings
    base_url, mail, database, redis = warnings
    assert base_url.startswith("PLUGIN_BASE_URL is not set: ")
    assert mail.startswith("MAIL_URL is not set: reset links")
    assert database.startswith("Cannot use the database (connection failed: ")
    assert database.endswith("Until then pages and API calls answer 503.")
    assert redis.startswith("Redis at 127.0.0.1:")
    assert "does not answer" in redis
    assert "hunter2" not in "\n".join(lines)


def test_start_up_warns_about_an_http_base_url_and_a_database_without_tables(instance_path):
    settings = {
        "SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": f"sqlite:///{instance_path / 'empty.db'}",
        "PLUGIN_BASE_URL": "http://plugin.example.com",
    }
    sqlite3.connect(instance_path / "empty.db").close()
    warnings = warnings_in(start_and_stop(settings, instance_path))
    assert warnings == [
        "PLUGIN_BASE_URL is plain http (http://plugin.example.com): ChatGPT accepts only https "
        "and cookies go out without Secure; set it to the public https origin.",
        "MAIL_URL is not set: reset links, verification links and address changes are "
        "written to the log and the admin outbox, not sent; set it to your SMTP server.",
        "The database has no tables yet: run `flask --app plugin db upgrade` first. "
        "Until then pages and API calls answer 503.",
    ]


def test_start_up_with_good_settings_warns_about_nothing(server_env, instance_path):
    settings = {
        **server_env,
        "PLUGIN_BASE_URL": "https://plugin.example.com",
        "MAIL_URL": "smtp://mailer:secret@mail.example.com:587",
    }
    assert warnings_in(start_and_stop(settings, instance_path)) == []
