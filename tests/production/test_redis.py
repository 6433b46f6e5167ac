"""Redis holds the rate limits; while it is down each process limits on its own (WL-07).

The limits below come from a small route that uses the app's real limiter; the point is how
the limiter behaves when its Redis goes away and comes back, not any particular page.
"""

from __future__ import annotations

import socket
import time

import pytest
import redis
from flask import Blueprint

from plugin.extensions import limiter

probe = Blueprint("redis_probe", __name__)


@probe.get("/limited-probe")
@limiter.limit("3 per minute")
def limited_probe():
    return "ok"


@pytest.fixture
def app_config(app_config, private_redis):
    return {**app_config, "REDIS_URL": private_redis.url, "RATELIMIT_KEY_PREFIX": "probe"}


@pytest.fixture(autouse=True)
def limiter_back_on_its_store():
    yield
    # The limiter object is process-wide: a test that left it on its in-memory fallback
    # would hand the next test (on another store) counters that limiter.reset() cannot clear.
    limiter._storage_dead = False


@pytest.fixture
def probe_client(app):
    app.register_blueprint(probe)
    return app.test_client()


def statuses(client, count: int) -> list[int]:
    return [client.get("/limited-probe").status_code for _ in range(count)]


def redis_keys(private_redis) -> list[bytes]:
    with redis.Redis.from_url(private_redis.url) as connection:
        return connection.keys("*probe*")


def test_limits_live_in_redis_survive_its_outage_and_resume(probe_client, private_redis):
    assert statuses(probe_client, 4) == [200, 200, 200, 429]
    assert redis_keys(private_redis), "the counter should be in Redis"

    private_redis.stop()
    started = time.monotonic()
    # Requests keep being served, limited by this process's own counters.
    assert statuses(probe_client, 4) == [200, 200, 200, 429]
    assert time.monotonic() - started < 2

    private_redis.start()
    # The limiter looks for its store again after 1, 2, 4 … 32 s; here within a few seconds.
    deadline = time.monotonic() + 10
    while not redis_keys(private_redis) and time.monotonic() < deadline:
        probe_client.get("/limited-probe")
        time.sleep(0.25)
    assert redis_keys(private_redis), "the limiter should be back on Redis"
    with redis.Redis.from_url(private_redis.url) as connection:
        (key,) = redis_keys(private_redis)
        before = int(connection.get(key))
        probe_client.get("/limited-probe")
        assert int(connection.get(key)) == before + 1


@pytest.fixture
def silent_redis():
    """A port that accepts connections and never answers: a hung Redis or a black hole."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    listener.close()


def test_a_hung_redis_costs_a_request_well_under_two_seconds(app_config, silent_redis):
    from plugin import create_app
    from plugin.extensions import db

    app = create_app({**app_config, "REDIS_URL": silent_redis})
    app.register_blueprint(probe)
    client = app.test_client()
    started = time.monotonic()
    assert client.get("/limited-probe").status_code == 200
    assert time.monotonic() - started < 2
    with app.app_context():
        db.engine.dispose()


def test_a_limited_request_costs_one_round_trip_with_the_same_headers(probe_client, private_redis):
    probe_client.get("/limited-probe")  # loads the counting script into this Redis
    answers = []
    sent = private_redis.commands_sent(
        lambda: answers.extend(probe_client.get("/limited-probe") for _ in range(3))
    )
    assert sent == ["EVALSHA"] * 3
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a.headers["X-RateLimit-Limit"] for a in answers] == ["3"] * 3
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["1", "0", "0"]
    assert int(answers[-1].headers["Retry-After"]) > 0
    # The reset time is the counter's own expiry in Redis, read as limits' storage reads it.
    with redis.Redis.from_url(private_redis.url) as connection:
        (key,) = redis_keys(private_redis)
        expected = int(time.time() + connection.ttl(key) + 1)
    assert abs(int(answers[-1].headers["X-RateLimit-Reset"]) - expected) <= 1


def test_a_unix_socket_redis_url_is_accepted(app_config, tmp_path):
    from plugin import create_app
    from plugin.extensions import db

    # Nothing listens there: the app starts, and limits in memory until Redis answers.
    app = create_app({**app_config, "REDIS_URL": f"unix://{tmp_path / 'redis.sock'}"})
    app.register_blueprint(probe)
    client = app.test_client()
    assert [client.get("/limited-probe").status_code for _ in range(4)] == [200, 200, 200, 429]
    with app.app_context():
        db.engine.dispose()
