"""Security headers on every page the app serves (WL-10, WL-14, OA-21, OA-23)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import url_for
from werkzeug.routing import IntegerConverter

from plugin.api.operations import operations
from plugin.paths import is_path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PROXY_FIX_HOPS": 1}


def get_paths(app) -> list[str]:
    """A URL for every GET route, with placeholder values for its arguments."""
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        values = {}
        for name, converter in rule._converters.items():
            values[name] = 1 if isinstance(converter, IntegerConverter) else "x"
        if rule.endpoint == "static":
            values["filename"] = "site.css"
        with app.test_request_context():
            paths.append(url_for(rule.endpoint, **values))
    return sorted(set(paths))


def assert_hardened(app, response, path: str) -> None:
    headers = response.headers
    assert response.status_code < 500, (path, response.status_code)
    assert headers["X-Content-Type-Options"] == "nosniff", path
    assert headers["X-Frame-Options"] == "DENY", path
    if response.mimetype == "text/html":
        csp = headers["Content-Security-Policy"]
        for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
            assert directive in csp, (path, directive)
        assert "'unsafe-inline'" not in csp
        assert headers["Referrer-Policy"] == "no-referrer", path
    with app.app_context():
        credentials_page = is_path("credentials", path)
    if credentials_page:
        assert headers["Referrer-Policy"] == "no-referrer", path
        assert headers["Cache-Control"] == "no-store", path
        assert "Access-Control-Allow-Origin" not in headers, path
    if "Set-Cookie" in headers:
        assert "no-store" in headers["Cache-Control"], path


def test_every_get_route_is_hardened(app, client):
    paths = get_paths(app)
    assert "/healthz" in paths
    for path in paths:
        with client.get(path) as response:
            assert_hardened(app, response, path)


def test_every_get_route_is_hardened_when_signed_in(app, client, auth, user):
    response = auth.login()
    if response.status_code == 404:
        pytest.fail("the /login page is not built yet (accounts)", pytrace=False)
    assert response.status_code in (302, 303)
    for path in get_paths(app):
        with client.get(path) as response:
            assert_hardened(app, response, path)


def test_plain_http_has_no_hsts_and_no_secure_cookie(client):
    response = client.get("/login")
    assert "Strict-Transport-Security" not in response.headers
    for cookie in response.headers.getlist("Set-Cookie"):
        assert "Secure" not in cookie


def test_https_behind_the_proxy_gets_hsts_and_secure_cookies(client):
    response = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    cookies = response.headers.getlist("Set-Cookie")
    if response.status_code == 200:
        assert cookies, "the login form should set the session (CSRF) cookie"
    for cookie in cookies:
        assert "; Secure" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie


def test_forwarded_headers_are_ignored_without_a_trusted_proxy(other_app):
    client = other_app(PROXY_FIX_HOPS=0).test_client()
    response = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


def test_https_base_url_gets_hsts_and_secure_cookies(other_app):
    app = other_app(PLUGIN_BASE_URL="https://plugin.example.com")
    response = app.test_client().get("/healthz")
    assert "Strict-Transport-Security" in response.headers
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_templates_have_no_inline_scripts_or_styles(app):
    # The CSP allows only files from this site; inline code would be blocked in browsers.
    # E-mail bodies are no pages of this site: mail programs read only inline styles. The UIs
    # operations declare (MCP Apps) are no pages of this site either: each is one
    # self-contained document that hosts show in their own sandbox, under the CSP it declares.
    uis = {
        registered.operation.ui.template
        for registered in operations(app)
        if registered.operation.ui
    }
    assert uis, "the sample declares a UI"
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        name = template.relative_to(TEMPLATES).as_posix()
        if name.startswith("mail/") or name in uis:
            continue
        text = template.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"<style\b", text):
            offenders.append(f"{template.relative_to(TEMPLATES)}: inline <script>/<style>")
        if re.search(r"\sstyle=\"|\son[a-z]+=\"", text):
            offenders.append(f"{template.relative_to(TEMPLATES)}: style= or on*= attribute")
    assert offenders == []
