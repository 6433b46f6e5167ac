"""ChatGPT's side of an install, played by the test.

ChatGPT reads the plugin's manifest, sends the person's browser to the manifest's `client_url`
with its own parameters, receives the browser back on its `…/oauth/callback` page, and then
talks to the plugin over plain HTTP: the token exchange, API calls, refreshes. Here the
browser is Playwright's Chromium and the callback page is a route that never leaves the
machine; the HTTP side is urllib, so no HTTP library of the app's own stack is involved.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib import error, request
from urllib.parse import parse_qs, urlencode, urlsplit

CALLBACK_HOSTS = ("https://chat.openai.com/", "https://chatgpt.com/")


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip()

    def __str__(self) -> str:
        return f"{self.status} {self.body[:500]!r}"


class _NoRedirects(request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = request.build_opener(_NoRedirects)


def http(
    method: str,
    url: str,
    *,
    json_body: Any = None,
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    bearer: str | None = None,
) -> HttpResponse:
    """Send one request without following redirects; any status comes back as a response."""
    headers = dict(headers or {})
    data = None
    if json_body is not None:
        data = json.dumps(json_body).encode()
        headers["Content-Type"] = "application/json"
    elif form is not None:
        data = urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    # What ChatGPT's plugin runtime announces itself as.
    headers.setdefault("User-Agent", "Python/3.9 aiohttp/3.8.5")
    headers.setdefault("Accept", "application/json")
    assert url.startswith(("http://127.0.0.1:", "http://localhost:")), url
    req = request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
    try:
        with _opener.open(req, timeout=15) as answer:
            return HttpResponse(answer.status, _lower(answer.headers), answer.read())
    except error.HTTPError as answer:
        with answer:
            return HttpResponse(answer.code, _lower(answer.headers), answer.read())


def _lower(headers) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}


@dataclass
class Callback:
    """Where the plugin sent the browser back to ChatGPT, with its query parsed."""

    url: str
    params: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, url: str) -> Callback:
        query = parse_qs(urlsplit(url).query, keep_blank_values=True)
        for key, values in query.items():
            assert len(values) == 1, f"{key} appears {len(values)} times in {url}"
        return cls(url, {key: values[0] for key, values in query.items()})


class CallbackCatcher:
    """Record where the browser is sent off this machine, ChatGPT's callback above all.

    Playwright cannot intercept a redirect's next hop (its routes see only requests the
    page starts), and the plugin reaches ChatGPT by redirecting. So the browser resolves no
    host name at all (``--host-resolver-rules`` in tests/live_fixtures.py): a request
    for chat.openai.com fails inside Chromium, before any packet leaves. Every request is
    still reported as an event, which is where the callback URL, code and state are read.
    Requests the page itself starts for other hosts are aborted by a route as well.
    """

    def __init__(self, context) -> None:
        self.leaks: list[str] = []
        context.on("request", self._seen)
        context.route(
            re.compile(r"^(?!https?://(127\.0\.0\.1|localhost)[:/])(https?|wss?)://"), _abort
        )

    def _seen(self, request) -> None:
        url = request.url
        if url.startswith(("http:", "https:", "ws:", "wss:")) and not (
            _is_local(url) or url.startswith(CALLBACK_HOSTS)
        ):
            self.leaks.append(url)

    def follow(self, page, action) -> Callback:
        """Run ``action`` (a click) and return the callback the browser is then sent to."""
        with page.expect_request(lambda request: request.url.startswith(CALLBACK_HOSTS)) as sent:
            action()
        return Callback.parse(sent.value.url)


def _abort(route) -> None:
    route.abort("blockedbyclient")


def _is_local(url: str) -> bool:
    return urlsplit(url).hostname in ("127.0.0.1", "localhost")


@dataclass
class Credentials:
    client_id: str
    client_secret: str


class ChatGPT:
    """One plugin install as ChatGPT performs it, against the server at ``base_url``."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.plugin_id = secrets.token_hex(4)
        self.redirect_uri = f"https://chat.openai.com/aip/plugin-{self.plugin_id}/oauth/callback"
        self._manifest: dict | None = None

    @property
    def manifest(self) -> dict:
        if self._manifest is None:
            answer = http("GET", self.base_url + "/.well-known/ai-plugin.json")
            assert answer.status == 200, answer
            assert answer.content_type == "application/json", answer.headers
            self._manifest = answer.json()
            assert self._manifest["auth"]["type"] == "oauth", self._manifest["auth"]
        return self._manifest

    def authorize_url(self, credentials: Credentials, state: str | None = None) -> tuple[str, str]:
        """The URL ChatGPT opens in the person's browser, and the state it sent."""
        auth = self.manifest["auth"]
        state = state or str(uuid.uuid4())
        query = urlencode(
            {
                "response_type": "code",
                "client_id": credentials.client_id,
                "redirect_uri": self.redirect_uri,
                "scope": auth.get("scope", ""),
                "state": state,
            }
        )
        separator = "&" if "?" in auth["client_url"] else "?"
        return auth["client_url"] + separator + query, state

    def _token_request(self, credentials: Credentials, fields: dict[str, str]) -> HttpResponse:
        # Credentials in the body, encoded as the manifest says: what ChatGPT's plugin
        # runtime does with authorization_content_type.
        auth = self.manifest["auth"]
        body = {
            **fields,
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
        }
        if auth["authorization_content_type"] == "application/json":
            return http("POST", auth["authorization_url"], json_body=body)
        assert auth["authorization_content_type"] == "application/x-www-form-urlencoded", auth
        return http("POST", auth["authorization_url"], form=body)

    def exchange(self, credentials: Credentials, code: str) -> HttpResponse:
        return self._token_request(
            credentials,
            {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri},
        )

    def exchange_code(self, credentials: Credentials, code: str) -> dict:
        return _token_body(self.exchange(credentials, code))

    def refresh(self, credentials: Credentials, refresh_token: str) -> HttpResponse:
        return self._token_request(
            credentials, {"grant_type": "refresh_token", "refresh_token": refresh_token}
        )

    def refresh_tokens(self, credentials: Credentials, refresh_token: str) -> dict:
        return _token_body(self.refresh(credentials, refresh_token))

    def api(self, method: str, url: str, token: str, body: Any = None) -> HttpResponse:
        """Call the API as ChatGPT does: bearer token and ChatGPT's context headers."""
        return http(
            method,
            url,
            json_body=body,
            bearer=token,
            headers={
                "openai-subdivision-1-iso-code": "US-CA",
                "openai-ephemeral-user-id": secrets.token_hex(8),
                "openai-conversation-id": str(uuid.uuid4()),
            },
        )


def _token_body(answer: HttpResponse) -> dict:
    """Check a token response the way ChatGPT depends on it and return its body."""
    assert answer.status == 200, answer
    assert answer.content_type == "application/json", answer.headers
    assert "no-store" in answer.headers.get("cache-control", ""), answer.headers
    body = answer.json()
    assert body["token_type"].lower() == "bearer", body
    assert body["access_token"] and body["refresh_token"], body
    assert isinstance(body["expires_in"], int) and body["expires_in"] > 0, body
    return body
