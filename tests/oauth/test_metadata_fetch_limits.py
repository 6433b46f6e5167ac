"""Metadata-document fetches are bounded (OA-28), a failed one stores only a bounded record
(OA-29), and what an outsider sends is bounded before it is stored (DS-08)."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from plugin.config.defaults import DEFAULTS
from tests.oauth.connector_helpers import DrippingHost, client_document
from tests.oauth.oauth_helpers import authorize_url, pkce_pair

CALLBACK = "http://127.0.0.1:8765/callback"


@pytest.fixture
def app_config(app_config):
    return app_config | {"OAUTH_CIMD_ALLOW_LOOPBACK": True}


@pytest.fixture
def dripping():
    from plugin.oauth.clients.outbound import in_flight

    server = DrippingHost()
    yield server
    server.stop()
    # Fetches are the process's: let this test's end before the next test counts them.
    deadline = time.monotonic() + 10
    while in_flight() and time.monotonic() < deadline:
        time.sleep(0.05)


class Doc:
    def __init__(self, url: str) -> None:
        self.client_id = url
        self.redirect_uri = CALLBACK


def start(http, url: str, state: str = "xyz", **environ):
    _, challenge = pkce_pair()
    query = authorize_url(
        Doc(url), code_challenge=challenge, code_challenge_method="S256", state=state
    )
    return http.get(query, environ_base=environ)


def count(app, model, *where) -> int:
    from plugin.extensions import db

    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


# OA-28: one deadline, a short wait, a cap and rate limits


def test_oa28_one_deadline_covers_a_host_that_drips_its_headers(monkeypatch, dripping):
    from plugin.oauth.clients import fetch

    monkeypatch.setattr(fetch, "TIMEOUT", 1.5)
    started = time.monotonic()
    with pytest.raises(fetch.FetchError, match="in time"):
        fetch.fetch_json(dripping.url("/c.json"), allow_loopback=True)
    assert time.monotonic() - started < 3


def test_oa28_slow_name_resolution_counts_against_the_deadline(monkeypatch):
    from plugin.oauth.clients import fetch

    real = socket.getaddrinfo

    def slow(*args, **kwargs):
        time.sleep(3)
        return real("127.0.0.1", 9, type=socket.SOCK_STREAM)

    monkeypatch.setattr(fetch, "TIMEOUT", 1.0)
    monkeypatch.setattr(socket, "getaddrinfo", slow)
    started = time.monotonic()
    with pytest.raises(fetch.FetchError, match="in time"):
        fetch.fetch_json("http://slow-dns.test/c.json", allow_loopback=True)
    assert time.monotonic() - started < 2


def test_oa28_a_request_waits_half_a_second_for_a_fetch(other_app, dripping):
    # Production's wait (the tests' apps wait longer, for a busy machine).
    client = other_app(OAUTH_CIMD_FETCH_WAIT=DEFAULTS["OAUTH_CIMD_FETCH_WAIT"]).test_client()
    started = time.monotonic()
    page = start(client, dripping.url("/c.json"))
    assert time.monotonic() - started < 1.5
    assert page.status_code == 400
    assert "try again" in page.get_data(as_text=True)
    # A retry while the fetch still runs does not wait again.
    started = time.monotonic()
    assert start(client, dripping.url("/c.json")).status_code == 400
    assert time.monotonic() - started < 0.5


def test_oa28_concurrent_fetches_are_capped(app):
    from plugin.oauth.clients import outbound

    release = threading.Event()
    with app.test_request_context():
        running = [
            outbound.start_fetch(f"https://cap{i}.example/c.json", release.wait)[0]
            for i in range(outbound.MAX_IN_FLIGHT)
        ]
        # The same URL joins its fetch; another one is refused, not queued.
        joined = outbound.start_fetch("https://cap0.example/c.json", release.wait)
        assert joined == (running[0], False)
        with pytest.raises(outbound.FetchRefused):
            outbound.start_fetch("https://one-too-many.example/c.json", release.wait)
        release.set()
        assert all(done.wait(5) for done in running)
        finished, started = outbound.start_fetch(
            "https://one-too-many.example/c.json", release.wait
        )
        assert started and finished.wait(5)


def test_oa28_fetches_per_host_are_limited(client, host, monkeypatch):
    from plugin.oauth.clients import outbound

    monkeypatch.setattr(outbound, "FETCHES_PER_HOST", "3 per minute")
    pages = [start(client, host.url(f"/missing-{i}.json")) for i in range(6)]
    assert len(host.hits) == 3
    assert all(page.status_code == 400 for page in pages)
    assert "Too many" in pages[-1].get_data(as_text=True)


def test_oa28_fetches_per_address_are_limited(client, host, monkeypatch):
    from plugin.oauth.clients import outbound

    monkeypatch.setattr(outbound, "FETCHES_PER_ADDRESS", "3 per minute")
    for i in range(5):
        start(client, host.url(f"/missing-{i}.json"), REMOTE_ADDR="198.51.100.7")
    assert len(host.hits) == 3
    start(client, host.url("/missing-other.json"), REMOTE_ADDR="198.51.100.8")
    assert len(host.hits) == 4


def test_oa28_the_error_page_does_not_name_the_address(app, client, monkeypatch):
    from plugin.audit.models import AuditEvent
    from plugin.extensions import db

    monkeypatch.setattr(
        socket, "getaddrinfo", lambda *a, **k: [(socket.AF_INET, 1, 6, "", ("10.1.2.3", 443))]
    )
    page = start(client, "https://internal.example/c.json")
    html = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "host is not allowed" in html and "10.1.2.3" not in html
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.subject.contains("internal"))
        )
    assert "10.1.2.3" in event.details["reason"]  # the operator still sees it


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::a00:1",  # NAT64 to 10.0.0.1
        "64:ff9b:1::a00:1",
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "::10.0.0.1",  # IPv4-compatible
        "fec0::1",  # site-local
        "2001::1",  # Teredo
        "2001:db8::1",
        "100::1",
        "fc00::1",
        "100.64.0.1",
        "192.0.0.8",
        "198.18.0.1",
        "192.88.99.1",
        "240.0.0.1",
    ],
)
def test_oa28_special_purpose_addresses_are_refused(address):
    from plugin.oauth.clients.fetch import FetchError, check_address

    with pytest.raises(FetchError, match="host is not allowed"):
        check_address(ipaddress.ip_address(address), allow_loopback=False)


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
def test_oa28_public_addresses_are_allowed(address):
    from plugin.oauth.clients.fetch import check_address

    check_address(ipaddress.ip_address(address), allow_loopback=False)


# OA-29: a failed fetch stores a bounded record and a back-off, and prune covers every kind


def test_oa29_two_hundred_requests_for_a_failing_document_store_a_bounded_record(app, client, host):
    from plugin.audit.models import AuditEvent
    from plugin.connections.models import ConnectionTrace, TraceStep
    from plugin.oauth.models import OAuthClient

    url = host.serve_status("/broken.json", 500)
    for i in range(200):
        assert start(client, url, state=f"s{i}").status_code == 400
    assert host.hits == ["/broken.json"]  # the back-off held
    assert count(app, OAuthClient) == 0
    assert count(app, AuditEvent, AuditEvent.subject == f"client:{url}") == 1
    assert count(app, ConnectionTrace) <= 5
    assert count(app, TraceStep) <= 15


def test_oa29_the_back_off_is_saved_and_ends(app, client, host):
    from plugin.audit.models import AuditEvent
    from plugin.extensions import db

    url = host.serve_status("/c.json", 503)
    assert start(client, url).status_code == 400
    host.serve_json("/c.json", client_document(url, CALLBACK))
    refused = start(client, url)
    assert refused.status_code == 400 and "fetched again" in refused.get_data(as_text=True)
    assert len(host.hits) == 1
    with app.app_context():
        for event in db.session.scalars(sa.select(AuditEvent)):
            event.created_at -= timedelta(minutes=6)
        db.session.commit()
    assert start(client, url).status_code == 302  # fetched again: on to the login page
    assert len(host.hits) == 2


def test_oa29_clients_prune_covers_metadata_document_clients(app, client, host, runner):
    from plugin.extensions import db
    from plugin.oauth.models import OAuthClient

    kept = host.serve_json("/kept.json", client_document(host.url("/kept.json"), CALLBACK))
    unused = host.serve_json("/unused.json", client_document(host.url("/unused.json"), CALLBACK))
    blocked = host.serve_json("/blocked.json", client_document(host.url("/blocked.json"), CALLBACK))
    for url in (kept, unused, blocked):
        assert start(client, url).status_code == 302
    with app.app_context():
        for row in db.session.scalars(
            sa.select(OAuthClient).where(OAuthClient.client_id.in_([unused, blocked]))
        ):
            row.created_at -= timedelta(days=40)
            row.is_disabled = row.client_id == blocked
        db.session.commit()
    result = runner.invoke(args=["clients", "prune"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        left = set(db.session.scalars(sa.select(OAuthClient.client_id)))
    assert left == {kept, blocked}


# DS-08: bounded fields and clamped lifetimes


def test_ds08_a_long_host_name_fails_cleanly(app, client, monkeypatch):
    from plugin.oauth.models import OAuthClient

    def nowhere(*args, **kwargs):
        raise socket.gaierror("no such host")

    monkeypatch.setattr(socket, "getaddrinfo", nowhere)
    long_host = ".".join(["a" * 60, "b" * 60, "example"])
    page = start(client, f"https://{long_host}/c.json")
    assert page.status_code == 400
    assert count(app, OAuthClient) == 0


@pytest.mark.parametrize("length", [240, 248, 249, 255])
def test_ds08_a_long_client_id_fails_cleanly(app, client, host, length):
    url = host.url("/")
    url += "p" * (length - len(url))
    assert len(url) == length
    assert start(client, url).status_code == 400


@pytest.mark.parametrize(
    "max_age", ["9" * 30, "9" * 5000, "0" * 20 + "600"], ids=["30 digits", "5000 digits", "zeros"]
)
def test_ds08_cache_lifetimes_are_clamped(app, client, host, max_age):
    from plugin.extensions import db
    from plugin.oauth.models import OAuthClient

    url = host.serve_json(
        "/c.json",
        client_document(host.url("/c.json"), CALLBACK),
        Cache_Control=f"max-age={max_age}",
    )
    assert start(client, url).status_code == 302
    with app.app_context():
        row = db.session.scalar(sa.select(OAuthClient).where(OAuthClient.client_id == url))
        lifetime = row.metadata_fresh_until - row.metadata_fetched_at
    assert lifetime == (timedelta(minutes=10) if max_age.endswith("600") else timedelta(hours=24))


def test_ds08_records_are_cut_to_their_columns(app):
    from plugin.audit.models import AuditEvent
    from plugin.audit.services import record
    from plugin.extensions import db

    with app.test_request_context(headers={"User-Agent": "u" * 1000}):
        record("client.metadata_fetch_failed", subject="client:" + "x" * 400)
        db.session.commit()
        event = db.session.scalar(sa.select(AuditEvent))
    assert len(event.subject) == 255 and len(event.user_agent) == 255
