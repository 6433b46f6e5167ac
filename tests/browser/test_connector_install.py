"""The official MCP SDK's OAuth client installs itself against this server, unmodified.

It discovers the server from a 401 on ``/mcp``, registers (by a Client ID Metadata Document
served on loopback over https, or by Dynamic Client Registration), sends a person through
sign-up and consent in Chromium, exchanges the code, calls ``/mcp`` and refreshes.
The MCP calls go through the SDK's own client (legacy era for the metadata document, the
2026-07-28 era for dynamic registration) to the real ``/mcp``: tools/list, getMe, and after the
access token expired and the SDK refreshed it, createTodo and listTodos.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug.serving import make_server

from tests.helpers import PASSWORD
from tests.oauth.connector_helpers import DocumentHost, client_document

ACCESS_TTL = 4


@pytest.fixture
def app_config(app_config):
    return app_config | {
        "OAUTH_CIMD_ALLOW_LOOPBACK": True,
        "ACCESS_TOKEN_TTL": ACCESS_TTL,
        "SIGNUP_RATE_LIMIT": "1000 per minute",
        "LOGIN_RATE_LIMIT": "1000 per minute",
    }


@pytest.fixture
def server(app) -> Iterator[str]:
    """The app, MCP endpoint included, on a loopback port."""
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()


@pytest.fixture
def callback_host() -> Iterator[DocumentHost]:
    host = DocumentHost()
    host.routes["/callback"] = _plain_ok
    yield host
    host.stop()


def _plain_ok(request: Any) -> None:
    request.send_response(200)
    request.send_header("Content-Type", "text/plain")
    request.end_headers()
    request.wfile.write(b"connected")


class MemoryStorage:
    def __init__(self) -> None:
        self.tokens: Any = None
        self.client_info: Any = None

    async def get_tokens(self) -> Any:
        return self.tokens

    async def set_tokens(self, tokens: Any) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> Any:
        return self.client_info

    async def set_client_info(self, client_info: Any) -> None:
        self.client_info = client_info


class SdkClient:
    """The SDK's flow on its own event loop in a thread; the browser half stays here."""

    def __init__(
        self, mcp_url: str, redirect_uri: str, metadata_url: str | None, mode: str = "legacy"
    ) -> None:
        self.auth_urls: queue.Queue[str] = queue.Queue()
        self.callbacks: queue.Queue[tuple[str, str | None, str | None]] = queue.Queue()
        self.results: dict[str, Any] = {}
        self.mcp_url = mcp_url
        self.redirect_uri = redirect_uri
        self.metadata_url = metadata_url
        self.mode = mode
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._flow())
        except BaseException as error:  # reported to the test thread
            self.results["error"] = repr(error)
            self.auth_urls.put("")

    async def _flow(self) -> None:
        import httpx2
        from mcp import Client
        from mcp.client.auth import OAuthClientProvider
        from mcp.client.streamable_http import streamable_http_client
        from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata

        async def redirect_handler(url: str) -> None:
            self.auth_urls.put(url)

        async def callback_handler() -> AuthorizationCodeResult:
            code, state, iss = await asyncio.to_thread(self.callbacks.get, True, 60)
            return AuthorizationCodeResult(code=code, state=state, iss=iss)

        storage = MemoryStorage()
        provider = OAuthClientProvider(
            server_url=self.mcp_url,
            client_metadata=OAuthClientMetadata(
                client_name="Desk Agent",
                redirect_uris=[self.redirect_uri],
                grant_types=["authorization_code", "refresh_token"],
                response_types=["code"],
            ),
            storage=storage,
            redirect_handler=redirect_handler,
            callback_handler=callback_handler,
            client_metadata_url=self.metadata_url,
        )
        async with httpx2.AsyncClient(auth=provider, timeout=30) as http:
            transport = streamable_http_client(self.mcp_url, http_client=http)
            async with Client(transport, mode=self.mode) as client:
                tools = await client.list_tools()
                self.results["tools"] = {tool.name for tool in tools.tools}
                me = await client.call_tool("getMe", {})
                self.results["me"] = me.structured_content
                self.results["client_id"] = storage.client_info.client_id
                self.results["first_token"] = storage.tokens.access_token
                self.results["scope"] = storage.tokens.scope
                await asyncio.sleep(ACCESS_TTL + 1)  # the access token expires: the SDK refreshes
                created = await client.call_tool("createTodo", {"title": "Installed by MCP"})
                self.results["created"] = created.structured_content
                listed = await client.call_tool("listTodos", {"q": "Installed"})
                self.results["listed"] = listed.structured_content
                self.results["second_token"] = storage.tokens.access_token


def install(page, sdk: SdkClient, email: str) -> None:
    sdk.thread.start()
    auth_url = sdk.auth_urls.get(timeout=60)
    assert auth_url, sdk.results.get("error")
    page.goto(auth_url)
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("button", name="Allow").wait_for()
    page.shots("consent")
    consent = page.content()
    assert "Desk Agent" in consent and "127.0.0.1" in consent
    assert "has not reviewed it" in consent and "runs on your own computer" in consent
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url("**/callback?**")
    params = {key: values[0] for key, values in parse_qs(urlsplit(page.url).query).items()}
    sdk.callbacks.put((params["code"], params.get("state"), params.get("iss")))
    sdk.thread.join(timeout=60)
    assert "error" not in sdk.results, sdk.results["error"]


def assert_connected(sdk: SdkClient, email: str) -> None:
    # The SDK asks for what the 401 challenge named: every scope the app offers.
    assert set(sdk.results["scope"].split()) == {"todos:read", "todos:write"}
    assert {"getMe", "createTodo", "listTodos", "deleteTodo"} <= sdk.results["tools"]
    assert sdk.results["me"]["email"] == email
    # After the refresh the same session goes on working, with a new access token.
    assert sdk.results["second_token"] != sdk.results["first_token"]
    items = sdk.results["listed"]["items"]
    assert [item["id"] for item in items] == [sdk.results["created"]["id"]]


def test_sdk_client_installs_by_client_metadata_document(
    server,
    callback_host,
    page,
    tmp_path,
    monkeypatch,
):
    documents = DocumentHost(tls_folder=tmp_path)
    # The server trusts the test CA, as it would trust a public one.
    monkeypatch.setenv("SSL_CERT_FILE", str(documents.ca_file))
    redirect_uri = callback_host.url("/callback")
    metadata_url = documents.url("/desk-agent/client.json")
    documents.serve_json("/desk-agent/client.json", client_document(metadata_url, redirect_uri))
    try:
        sdk = SdkClient(server + "/mcp", redirect_uri, metadata_url, mode="legacy")
        install(page, sdk, "cimd@example.com")
    finally:
        documents.stop()
    assert sdk.results["client_id"] == metadata_url
    assert documents.hits == ["/desk-agent/client.json"]
    assert_connected(sdk, "cimd@example.com")


def test_sdk_client_installs_by_dynamic_registration(server, callback_host, page):
    redirect_uri = callback_host.url("/callback")
    sdk = SdkClient(server + "/mcp", redirect_uri, None, mode="2026-07-28")
    install(page, sdk, "dcr@example.com")
    assert sdk.results["client_id"].startswith("dyn_")
    assert_connected(sdk, "dcr@example.com")


def test_the_resource_follows_the_request_origin(server):
    import requests

    document = requests.get(server + "/.well-known/oauth-protected-resource/mcp", timeout=5).json()
    assert document["resource"] == server + "/mcp"
