"""OA-28 against gunicorn as shipped: hosts that drip their headers hold no worker."""

from __future__ import annotations

import threading
import time
from urllib.parse import urlencode

import pytest
import requests

from plugin.config.defaults import DEFAULTS
from plugin.oauth.clients.fetch import TIMEOUT
from plugin.oauth.clients.outbound import MAX_IN_FLIGHT
from tests.oauth.connector_helpers import DrippingHost

WAIT = DEFAULTS["OAUTH_CIMD_FETCH_WAIT"]

WORKERS = 2
SLOW_FETCHES = 4


@pytest.fixture
def dripping():
    server = DrippingHost()
    yield server
    server.stop()


def authorize(base: str, document_url: str) -> str:
    query = urlencode(
        {
            "response_type": "code",
            "client_id": document_url,
            "redirect_uri": "http://127.0.0.1:8765/callback",
            "state": "xyz",
            "code_challenge": "x" * 43,
            "code_challenge_method": "S256",
        }
    )
    return f"{base}/oauth/authorize?{query}"


def test_oa28_hosts_that_drip_their_headers_hold_no_worker(gunicorn_factory, server_env, dripping):
    server = gunicorn_factory({**server_env, "OAUTH_CIMD_ALLOW_LOOPBACK": "true"}, workers=WORKERS)
    answers: list[tuple[int, float]] = []

    def slow_install(index: int) -> None:
        started = time.monotonic()
        response = requests.get(authorize(server.url, dripping.url(f"/c{index}.json")), timeout=30)
        answers.append((response.status_code, time.monotonic() - started))

    threads = [threading.Thread(target=slow_install, args=(i,)) for i in range(SLOW_FETCHES)]
    for thread in threads:
        thread.start()
    health_times = []
    for _ in range(8):
        started = time.monotonic()
        assert requests.get(server.url + "/healthz", timeout=10).status_code == 200
        health_times.append(time.monotonic() - started)
        time.sleep(0.25)
    for thread in threads:
        thread.join(30)
    assert max(health_times) < 2.5, health_times
    # Each install request was answered ("try again") after half a second of waiting; one
    # worker may have queued them all (gthread accepts while its thread is busy).
    assert [status for status, _ in answers] == [400] * SLOW_FETCHES
    assert max(seconds for _, seconds in answers) < SLOW_FETCHES * WAIT + 1.5, answers
    # The fetches themselves were capped and cut off at the one deadline.
    assert dripping.most_open <= MAX_IN_FLIGHT * WORKERS
    deadline = time.monotonic() + TIMEOUT + 3
    while dripping.open_now and time.monotonic() < deadline:
        time.sleep(0.1)
    assert dripping.open_now == 0
    assert max(dripping.durations) < TIMEOUT + 2.5, dripping.durations
