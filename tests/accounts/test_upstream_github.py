"""The GitHub preset against a loopback server shaped like GitHub's OAuth and API (the one
stand-in, tests/clients/github_standin.py): accounts from the verified primary address
only, linking an existing account only after proof, and GitHub's ways of failing."""

from __future__ import annotations

import html
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.accounts.upstream_helpers import (
    accounts,
    come_back,
    identities,
    install_path,
    start,
    upstream_steps,
)
from tests.clients.github_standin import CLIENT_ID, CLIENT_SECRET, GitHubStandIn
from tests.helpers import PASSWORD, csrf_token_from

NEXT = "/oauth/authorize?response_type=code&client_id=abc&state=s-1"


@pytest.fixture(scope="module")
def github():
    running = GitHubStandIn()
    yield running
    running.stop()


@pytest.fixture
def standin(github):
    github.reset()
    return github


@pytest.fixture
def app_config(app_config, github):
    return {**app_config, **github.settings(), "UPSTREAM_TIMEOUT": 1}


def sign_in(client, standin: GitHubStandIn, person: str, next_path: str = NEXT):
    standin.person = person
    authorize = start(client, "github", next_path)
    assert authorize.status_code == 303
    return come_back(client, fetch(authorize.headers["Location"]))


def fetch(authorize_url: str) -> str:
    """The browser at GitHub's authorization page: where it is sent back to."""
    answer = requests.get(authorize_url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def test_verified_primary_address_makes_an_account(app, client, standin):
    response = sign_in(client, standin, "octocat")
    assert response.status_code == 303 and response.headers["Location"] == NEXT
    assert accounts(app) == [("octocat@github.example", True)]
    assert identities(app) == [("github", "583231", "octocat@github.example")]

    [query] = standin.authorizations
    assert query["scope"] == "read:user user:email"
    assert query["code_challenge_method"] == "S256" and len(query["state"]) >= 20
    assert query["redirect_uri"] == "http://localhost/login/with/github/callback"
    # The client's credentials travel in the form, where GitHub documents them.
    [form] = standin.token_requests
    assert (form["client_id"], form["client_secret"]) == (CLIENT_ID, CLIENT_SECRET)
    assert form["code_verifier"]


def test_an_existing_account_is_linked_only_after_proof(app, client, standin, user):
    response = sign_in(client, standin, "person")
    assert response.status_code == 303
    link = response.headers["Location"]
    assert link.startswith("/login/with/link?t=") and identities(app) == []
    page = client.get(link).get_data(as_text=True)
    assert "GitHub" in page and "person@example.com" in page
    proved = client.post(link, data={"csrf_token": csrf_token_from(page), "password": PASSWORD})
    assert proved.status_code == 303 and proved.headers["Location"] == NEXT
    assert identities(app) == [("github", "1001", "person@example.com")]


def test_unverified_primary_address_is_refused(app, client, standin, oauth_client):
    install = install_path(oauth_client)
    client.get(install)
    response = sign_in(client, standin, "newcomer", install)
    assert response.status_code == 403
    assert "GitHub does not say your e-mail address is verified" in response.get_data(as_text=True)
    assert accounts(app) == []
    assert upstream_steps(app)[-1][:2] == (False, "unverified")


def test_a_verified_address_that_is_not_primary_is_not_used(app, client, standin, user):
    """Only the primary address counts: a verified secondary one makes and links nothing."""
    response = sign_in(client, standin, "twoaddresses")
    assert response.status_code == 403
    assert accounts(app) == [(user.email, False)] and identities(app) == []


def test_cancelled_at_github(app, client, standin, oauth_client):
    install = install_path(oauth_client)
    client.get(install)
    standin.deny = True
    response = sign_in(client, standin, "octocat", install)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "You cancelled the sign-in at GitHub" in page
    again = re.search(r'href="([^"]+)"[^>]*>Try GitHub again', page)
    assert again and parse_qs(urlsplit(html.unescape(again[1])).query)["next"] == [install]
    assert upstream_steps(app)[-1][:2] == (False, "cancelled")
    assert standin.token_requests == []

    # Trying again lets the person choose another GitHub account.
    standin.deny = False
    fetch(client.get(html.unescape(again[1])).headers["Location"])
    assert standin.authorizations[-1]["prompt"] == "select_account"
    assert "prompt" not in standin.authorizations[0]


def test_github_refuses_the_code(app, client, standin):
    standin.person = "octocat"
    callback = fetch(start(client, "github", NEXT).headers["Location"])
    # GitHub's code works once: spent here, GitHub answers bad_verification_code (HTTP 200).
    code = parse_qs(urlsplit(callback).query)["code"][0]
    standin.exchange({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "code": code})
    response = come_back(client, callback)
    assert response.status_code == 400
    assert "GitHub refused the sign-in" in response.get_data(as_text=True)
    [(ok, cause, reason)] = upstream_steps(app)
    assert (ok, cause) == (False, "refused") and "bad_verification_code" in reason
    assert accounts(app) == []


def test_token_endpoint_failure(app, client, standin):
    standin.token_status = 502
    response = sign_in(client, standin, "octocat")
    assert response.status_code == 502
    assert "We could not reach GitHub just now" in response.get_data(as_text=True)
    assert accounts(app) == []


def test_api_timeout_costs_seconds(app, client, standin):
    standin.api_delay = 2.5
    began = time.monotonic()
    response = sign_in(client, standin, "octocat")
    elapsed = time.monotonic() - began
    assert response.status_code == 504
    assert "GitHub is not answering" in response.get_data(as_text=True)
    assert elapsed < 2.5, elapsed
    assert accounts(app) == []
