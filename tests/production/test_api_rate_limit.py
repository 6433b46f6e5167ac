"""The API rate limit in Redis: counted in leases, never past the limit, kept through an outage.

Every API and MCP call counts against the person's ``API_RATE_LIMIT``
(``plugin.api.ratelimit``). A process serving one person's calls takes them from Redis in
leases (``plugin.ratelimit_counter``): each call it serves was counted in Redis first.
"""

from __future__ import annotations

import logging
import time

import pytest
import redis
from limits import parse

from plugin.extensions import limiter
from plugin.ratelimit_counter import MOST_LEASED, LeasedCounter
from tests.helpers import make_token


@pytest.fixture
def app_config(app_config, private_redis):
    return {
        **app_config,
        "REDIS_URL": private_redis.url,
        "RATELIMIT_KEY_PREFIX": "api-probe",
        "API_RATE_LIMIT": "200 per minute",
    }


def get_me(client, token: str):
    return client.get("/api/me", headers={"Authorization": f"Bearer {token}"})


def counter_on(private_redis, prefix: str = "lease-probe", strategy: str = "fixed-window"):
    """One process's counter, as the app builds it from its settings."""
    return LeasedCounter(
        {
            "RATELIMIT_STORAGE_URI": f"plugin+{private_redis.url}",
            "RATELIMIT_KEY_PREFIX": prefix,
            "RATELIMIT_STRATEGY": strategy,
        }
    )


def redis_counts(private_redis, pattern: str) -> list[int]:
    with redis.Redis.from_url(private_redis.url) as connection:
        return [int(connection.get(key)) for key in connection.keys(pattern)]


def test_a_persons_calls_are_counted_in_redis_in_leases_and_stop_at_the_limit(
    client, token, private_redis
):
    assert get_me(client, token).status_code == 200  # loads the counting script
    answers = []
    sent = private_redis.commands_sent(
        lambda: answers.extend(get_me(client, token) for _ in range(204))
    )
    assert [a.status_code for a in answers] == [200] * 199 + [429] * 5
    # Fewer round trips than calls: one per lease (the window's last calls are counted
    # singly), and one per refused call.
    assert set(sent) == {"EVALSHA"}
    assert len(sent) < len(answers) / 2, len(sent)
    (count,) = redis_counts(private_redis, "*api-probe*api-user*")
    assert count >= 200
    remaining = [int(a.headers["X-RateLimit-Remaining"]) for a in answers]
    assert remaining == sorted(remaining, reverse=True)
    assert remaining[198] == 0
    assert all(a.headers["X-RateLimit-Limit"] == "200" for a in answers)
    assert int(answers[-1].headers["Retry-After"]) > 0
    assert "Retry-After" not in answers[0].headers
    assert answers[-1].json["error"] == "rate_limited"


def test_several_processes_never_let_more_than_the_limit_through(private_redis):
    counters = [counter_on(private_redis) for _ in range(4)]
    limit = parse("100 per minute")
    allowed = 0
    # Uneven turns: one process serves most calls, the others a few each.
    for call in range(300):
        counter = counters[0] if call % 5 else counters[1 + call // 5 % 3]
        allowed += counter.count(limit, "person-1", "api").allowed
    assert allowed <= 100
    # What the other processes leased and did not use is lost to this window, no more.
    assert allowed >= 100 - len(counters) * (MOST_LEASED - 1)
    # Every call served was counted in Redis before it was served.
    (count,) = redis_counts(private_redis, "*lease-probe*person-1*")
    assert count >= allowed


def test_a_rare_caller_costs_one_count_a_call(private_redis):
    counter = counter_on(private_redis)
    limit = parse("600 per minute")
    for name in ("a", "b", "c"):
        assert counter.count(limit, f"person-{name}", "api").allowed
    # The first call of a window leases only itself.
    assert redis_counts(private_redis, "*lease-probe*person-*") == [1, 1, 1]


def test_a_lease_is_never_used_after_its_window(private_redis):
    counter = counter_on(private_redis)
    limit = parse("1000 per 2 seconds")
    for _ in range(4):  # leases of 1, then 2, then 4: calls left in this process
        assert counter.count(limit, "person-1", "api").allowed
    with redis.Redis.from_url(private_redis.url) as connection:
        (key,) = connection.keys("*lease-probe*person-1*")
        deadline = time.monotonic() + 5
        while connection.exists(key) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not connection.exists(key)
        # The new window's first call is counted there, not served from the old lease.
        assert counter.count(limit, "person-1", "api").allowed
        assert int(connection.get(key)) == 1


def test_other_strategies_count_every_call(private_redis):
    counter = counter_on(private_redis, strategy="moving-window")
    limit = parse("3 per minute")
    assert [counter.count(limit, "person-1", "api").allowed for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]


def test_the_api_limit_survives_a_redis_outage_and_returns_to_redis(
    app, client, user, oauth_client, private_redis, caplog
):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    token = make_token(app, user, oauth_client)["access_token"]
    assert [get_me(client, token).status_code for _ in range(4)] == [200, 200, 200, 429]

    private_redis.stop()
    caplog.set_level(logging.INFO, logger="plugin.ratelimit_counter")
    started = time.monotonic()
    # Calls keep being served, limited by this process's own counters.
    assert [get_me(client, token).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert time.monotonic() - started < 2
    assert "Rate limit storage unreachable" in caplog.text

    private_redis.start()
    deadline = time.monotonic() + 10
    while not redis_counts(private_redis, "*api-user*") and time.monotonic() < deadline:
        get_me(client, token)
        time.sleep(0.25)
    assert redis_counts(private_redis, "*api-user*"), "the count should be back in Redis"
    assert "Rate limit storage recovered" in caplog.text


@pytest.fixture
def default_limits_forgotten():
    yield
    # The limiter object is process-wide and keeps default limits once an app set them.
    limiter.limit_manager.set_default_limits([])


def test_api_calls_answer_to_their_own_limit_not_flask_limiters_defaults(
    app_config, user, oauth_client, default_limits_forgotten
):
    from plugin import create_app
    from plugin.extensions import db

    app = create_app({**app_config, "RATELIMIT_DEFAULT": "1 per minute"})
    client = app.test_client()
    token = make_token(app, user, oauth_client)["access_token"]
    # A page takes the operator's default limit; the API counts only API_RATE_LIMIT.
    assert [client.get("/legal").status_code for _ in range(2)] == [200, 429]
    assert [get_me(client, token).status_code for _ in range(3)] == [200, 200, 200]
    with app.app_context():
        db.engine.dispose()


def test_a_setting_of_several_limits_counts_each_and_speaks_of_the_shortest(app, client, token):
    app.config["API_RATE_LIMIT"] = "100 per hour;3 per minute"
    answers = [get_me(client, token) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-RateLimit-Limit"] for a in answers] == ["3"] * 4
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
