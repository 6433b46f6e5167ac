"""MAIL_URL: what it sets, what it refuses, and that TLS checks the server's certificate."""

from __future__ import annotations

import datetime
import secrets
import ssl

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask

from plugin.config import ENV_KEYS, ConfigError, load_config
from plugin.extensions import db
from tests.mail_helpers import free_port

GOOD_KEY = secrets.token_urlsafe(48)


@pytest.fixture
def settings(monkeypatch, tmp_path):
    for key in (*ENV_KEYS, "FLASK_DEBUG"):
        monkeypatch.delenv(key, raising=False)

    def load(**env: str) -> dict:
        for key, value in {"SECRET_KEY": GOOD_KEY, **env}.items():
            monkeypatch.setenv(key, value)
        app = Flask("plugin", instance_relative_config=True, instance_path=str(tmp_path))
        load_config(app, {"DATABASE_URL": f"sqlite:///{tmp_path / 'plugin.db'}"})
        return app.config

    return load


def test_nothing_set_prints_messages(settings):
    config = settings()
    assert config["MAIL_BACKEND"] == "console"
    assert config["MAIL_DEFAULT_SENDER"] == "Todo Plugin <support@example.com>"


def test_smtp_is_starttls_and_smtps_is_tls(settings):
    base = {"PLUGIN_BASE_URL": "https://todo.example.com"}
    config = settings(MAIL_URL="smtp://me%40x.com:p%2Fss@mail.example.com", **base)
    assert (config["MAIL_SERVER"], config["MAIL_PORT"]) == ("mail.example.com", 587)
    assert (config["MAIL_USERNAME"], config["MAIL_PASSWORD"]) == ("me@x.com", "p/ss")
    assert config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]
    config = settings(MAIL_URL="smtps://mail.example.com", MAIL_FROM="Todo <no@x.com>", **base)
    assert config["MAIL_PORT"] == 465 and config["MAIL_USE_SSL"] and not config["MAIL_USE_TLS"]
    assert config["MAIL_DEFAULT_SENDER"] == "Todo <no@x.com>"


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"MAIL_URL": "http://mail.example.com"}, "MAIL_URL must look like"),
        ({"MAIL_URL": "smtp://mail.example.com:99999"}, "MAIL_URL must look like"),
        ({"MAIL_URL": "smtp+insecure://mail.example.com"}, "only for a relay on this machine"),
        ({"MAIL_URL": "smtp://mail.example.com"}, "PLUGIN_BASE_URL must be set"),
        ({"MAIL_TIMEOUT": "soon"}, "MAIL_TIMEOUT"),
    ],
)
def test_bad_mail_settings_stop_startup_in_one_line(settings, env, words):
    with pytest.raises(ConfigError, match=words) as error:
        settings(**env)
    assert "secret" not in str(error.value)


def test_the_password_is_not_repeated_in_the_error(settings):
    with pytest.raises(ConfigError) as error:
        settings(MAIL_URL="ftp://me:hunter2hunter2@mail.example.com")
    assert "hunter2hunter2" not in str(error.value)


def _self_signed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


class _Accept:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        self.count += 1
        return "250 OK"


@pytest.mark.parametrize("trusted", [False, True])
def test_starttls_checks_the_certificate(app_config, tmp_path, monkeypatch, trusted):
    from plugin import create_app
    from plugin.mail.services import send_message

    cert_file, key_file = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    handler = _Accept()
    port = free_port()
    server = Controller(
        handler, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True
    )
    server.start()
    if trusted:
        monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    app = create_app(
        {
            **app_config,
            "MAIL_URL": f"smtp://localhost:{port}",
            "PLUGIN_BASE_URL": "https://todo.example.com",
        }
    )
    try:
        with app.test_request_context():
            sent = send_message(
                "password_changed", "a@example.com", "Hello", reset_url="https://x.example"
            )
    finally:
        server.stop()
        with app.app_context():
            db.session.rollback()  # the outbox row is not wanted here
            db.engine.dispose()
    assert sent is trusted
    assert handler.count == (1 if trusted else 0)
