"""Two app servers behind one imaginary load balancer, sharing PostgreSQL and Redis.

Consecutive requests of one person or client land on different instances; nothing may
depend on which one answered before (sessions are rows, pending authorization requests
travel in the URL, rate limits are counted in Redis).
"""

from __future__ import annotations

import threading
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
import sqlalchemy as sa

from tests.helpers import PASSWORD, csrf_token_from
from tests.servers import login, postgres_only, submit_form


@pytest.fixture
def instances(database_url, shared_redis_env, gunicorn_factory):
    postgres_only(database_url, "two hosts share one database only with PostgreSQL")
    env = {**shared_redis_env, "SIGNUP_RATE_LIMIT": "1000 per minute"}
    return gunicorn_factory(env), gunicorn_factory(env)


def test_a_session_started_on_one_instance_works_on_the_other(instances, user):
    a, b = instances
    with requests.Session() as http:
        response = login(http, a.url, user.email, PASSWORD)
        assert response.status_code in (302, 303)
        account = http.get(b.url + "/account", allow_redirects=False)
        assert account.status_code == 200
        assert user.email in account.text

        # Logging out on B ends the session on A too (and for a copied cookie).
        copied = dict(http.cookies)
        token = csrf_token_from(account.text)
        http.post(b.url + "/logout", data={"csrf_token": token}, allow_redirects=False)
    with requests.Session() as replay:
        replay.cookies.update(copied)
        assert replay.get(a.url + "/account", allow_redirects=False).status_code in (302, 303)


def test_login_brute_force_spread_over_both_instances_hits_one_limit(instances, user):
    a, b = instances
    statuses = []
    with requests.Session() as http:
        for attempt in range(12):
            server = (a, b)[attempt % 2]
            statuses.append(login(http, server.url, user.email, "wrong password").status_code)
            if statuses[-1] == 429:
                break
    # Per-process counting would allow 5 per account on each instance (10 in all).
    assert 429 in statuses, statuses
    assert statuses.index(429) <= 6, statuses
    assert all(status < 500 for status in statuses), statuses


def test_parallel_signups_with_one_email_make_one_account(app, instances):
    from plugin.accounts.models import User
    from plugin.extensions import db

    emails = [
        ("Race@Example.com", "race@example.com", "RACE@EXAMPLE.COM")[i % 3] for i in range(30)
    ]
    sessions, tokens = [], []
    for i in range(30):
        http = requests.Session()
        page = http.get(instances[i % 2].url + "/signup")
        assert page.status_code == 200, f"/signup answered {page.status_code}"
        sessions.append(http)
        tokens.append(csrf_token_from(page.text))

    start = threading.Barrier(30)
    statuses: list[int] = [0] * 30

    def sign_up(i: int) -> None:
        start.wait()
        data = {"email": emails[i], "password": PASSWORD, "confirm": PASSWORD}
        response = sessions[i].post(
            instances[(i + 1) % 2].url + "/signup",
            data={**data, "csrf_token": tokens[i]},
            allow_redirects=False,
            timeout=60,
        )
        statuses[i] = response.status_code

    threads = [threading.Thread(target=sign_up, args=(i,)) for i in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    for http in sessions:
        http.close()

    assert all(0 < status < 500 for status in statuses), statuses
    assert sum(status in (302, 303) for status in statuses) == 1, statuses
    with app.app_context():
        count = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(User)
            .where(sa.func.lower(User.email) == "race@example.com")
        )
    assert count == 1


def test_an_oauth_flow_alternating_between_instances(instances, user, oauth_client):
    a, b = instances
    query = urlencode(
        {
            "response_type": "code",
            "client_id": oauth_client.client_id,
            "redirect_uri": oauth_client.redirect_uri,
            "scope": "todos:read todos:write",
            "state": "st4te-with/odd=chars",
        }
    )
    with requests.Session() as http:
        assert login(http, b.url, user.email, PASSWORD).status_code in (302, 303)
        consent = http.get(f"{a.url}/oauth/authorize?{query}")
        assert consent.status_code == 200
        action, data = submit_form(consent.text, "Allow")
        parts = urlsplit(action or consent.url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        allowed = http.post(b.url + target, data=data, allow_redirects=False)
    assert allowed.status_code in (302, 303)
    location = allowed.headers["Location"]
    assert location.startswith(oauth_client.redirect_uri)
    params = parse_qs(urlsplit(location).query)
    assert params["state"] == ["st4te-with/odd=chars"]

    token = requests.post(
        a.url + "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": params["code"][0],
            "redirect_uri": oauth_client.redirect_uri,
            "client_id": oauth_client.client_id,
            "client_secret": oauth_client.client_secret,
        },
        timeout=10,
    )
    assert token.status_code == 200
    body = token.json()

    spec = requests.get(b.url + "/openapi.json", timeout=10).json()
    (me_path,) = [
        path
        for path, operations in spec["paths"].items()
        for operation in operations.values()
        if isinstance(operation, dict) and operation.get("operationId") == "getMe"
    ]
    me = requests.get(
        b.url + me_path, headers={"Authorization": f"Bearer {body['access_token']}"}, timeout=10
    )
    assert me.status_code == 200
    assert user.email in me.text

    refreshed = requests.post(
        b.url + "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
        auth=(oauth_client.client_id, oauth_client.client_secret),
        timeout=10,
    )
    assert refreshed.status_code == 200
