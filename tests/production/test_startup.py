"""Bad configuration stops gunicorn and the migration command with one clear line."""

from __future__ import annotations

import subprocess
import sys

import pytest
from servers import ROOT, SECRET_KEY, clean_env, free_port

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
