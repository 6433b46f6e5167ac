"""DS-01, in process: parallel sign-ups with one email (in several spellings) make one account."""

from __future__ import annotations

import threading

import pytest

from tests.accounts.account_helpers import user_count
from tests.helpers import PASSWORD, csrf_token_from

THREADS = 16


@pytest.fixture
def app_config(app_config):
    return {**app_config, "SIGNUP_RATE_LIMIT": "1000 per minute"}


def test_parallel_signups_with_one_email_make_one_account(app):
    spellings = ["race@example.com", "RACE@example.com", "Race@Example.Com", " race@EXAMPLE.com"]
    clients = [app.test_client() for _ in range(THREADS)]
    tokens = [csrf_token_from(c.get("/signup").get_data(as_text=True)) for c in clients]
    start = threading.Barrier(THREADS)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def sign_up(index: int) -> None:
        try:
            start.wait()
            response = clients[index].post(
                "/signup",
                data={
                    "email": spellings[index % len(spellings)],
                    "password": PASSWORD,
                    "confirm": PASSWORD,
                    "csrf_token": tokens[index],
                },
            )
            statuses.append(response.status_code)
        except BaseException as error:  # reported below, with the statuses
            errors.append(error)

    threads = [threading.Thread(target=sign_up, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
    assert len(statuses) == THREADS
    assert all(status < 500 for status in statuses), statuses
    assert statuses.count(303) == 1, statuses
    assert statuses.count(200) == THREADS - 1, statuses
    assert user_count(app, "race@example.com") == 1
