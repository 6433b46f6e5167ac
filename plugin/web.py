"""What every page and response shares: the template context, proxy handling, security headers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from inspect import iscoroutinefunction
from typing import Any

from flask import Flask, Response, current_app, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from werkzeug.datastructures import Headers
from werkzeug.middleware.proxy_fix import ProxyFix

from plugin.paths import is_path
from plugin.useragents import describe_user_agent

# Only the app's own stylesheet, images and scripts; no inline code, nothing third-party.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self' https:"
)
HSTS = "max-age=31536000; includeSubDomains"


class App(Flask):
    """Flask, asking once per function whether a view or hook is a coroutine function.

    Flask asks ``inspect.iscoroutinefunction`` about the view and every hook on every request
    (about fifteen times for an API call), and the answer for a function never changes.
    """

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if _is_coroutine_function(func):
            return self.async_to_sync(func)
        return func


# Bounded: a function made anew for each call would otherwise stay referenced here forever.
@functools.lru_cache(maxsize=1024)
def _is_coroutine_function(func: Callable[..., Any]) -> bool:
    return iscoroutinefunction(func)


def header_names(headers: Headers) -> frozenset[str]:
    """The lower-cased names of ``headers``; asking Werkzeug's ``Headers`` about a name it
    does not hold (``in``, ``setdefault``) raises and catches an exception each time."""
    return frozenset(name.lower() for name, _ in headers.items())


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, Secure behind https, and never stored by a cache.

    Flask writes the session cookie after the ``after_request`` functions have run, so the
    no-store rule for responses that set it has to live here.
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        # A stylesheet or an icon neither reads nor changes the session, yet Flask refreshes
        # a signed-in person's cookie on every answer, with the session as it stood when the
        # browser asked. Browsers fetch icons after the page, beside the next form post: an
        # icon answered after a POST that kept a secret in the session put the older cookie
        # back, and the page the POST led to found nothing. The cookie also made every asset
        # uncacheable (no-store, below).
        if request.endpoint == "static":
            return False
        return super().should_set_cookie(app, session)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        super().save_session(app, session, response)
        if "set-cookie" in header_names(response.headers):
            response.headers["Cache-Control"] = "no-store"


def init_app(app: Flask) -> None:
    hops = app.config["PROXY_FIX_HOPS"]
    if hops:
        # Trust X-Forwarded-For/-Proto from exactly this many proxies. X-Forwarded-Host is
        # not trusted: the proxy passes Host, and PLUGIN_BASE_URL fixes the public origin.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    app.session_interface = SessionInterface()
    # Sessions and the audit log name a browser and system, not the raw User-Agent.
    app.add_template_filter(describe_user_agent, "device")
    app.after_request(_security_headers)


def retry_after_only_on_refusals(response: Response) -> Response:
    """Keep ``Retry-After`` for the answers it means something on (429, 503): Flask-Limiter
    adds it to every limited response, and on a success it tells clients to wait for nothing
    (RFC 9110 §10.2.3)."""
    if response.status_code not in (429, 503):
        response.headers.pop("Retry-After", None)
    return response


def _served_over_https() -> bool:
    base = current_app.config["PLUGIN_BASE_URL"] or ""
    return request.is_secure or base.startswith("https://")


def _security_headers(response: Response) -> Response:
    headers = response.headers
    present = header_names(headers)
    defaults = [("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY")]
    if response.mimetype == "text/html":
        # Preview pages live at unguessable URLs: a referrer would hand them to other sites.
        defaults += [("Content-Security-Policy", CSP), ("Referrer-Policy", "no-referrer")]
    https = _served_over_https()
    if https:
        defaults.append(("Strict-Transport-Security", HSTS))
    for name, value in defaults:
        if name.lower() not in present:
            headers.add(name, value)
    auth_page = is_path("credentials", request.path)
    if auth_page:
        headers["Referrer-Policy"] = "no-referrer"
    if auth_page or "set-cookie" in present:
        headers["Cache-Control"] = "no-store"
    if https and request.is_secure:
        _mark_cookies_secure(response)
    return response


def _mark_cookies_secure(response: Response) -> None:
    cookies = response.headers.getlist("Set-Cookie")
    if not cookies or all("; secure" in cookie.lower() for cookie in cookies):
        return
    response.headers.remove("Set-Cookie")
    for cookie in cookies:
        if "; secure" not in cookie.lower():
            cookie += "; Secure"
        response.headers.add("Set-Cookie", cookie)


def request_header(name: str) -> str:
    """The request's ``name`` header, or "" when it was not sent.

    Read from the WSGI environ: Werkzeug's ``request.headers.get`` raises and catches an
    exception for every header that is absent, and the per-request hooks look up several
    that usually are (ChatGPT's, X-Request-ID, Origin). Not for Content-Type or
    Content-Length, which WSGI keeps without the ``HTTP_`` prefix.
    """
    value: str = request.environ.get(_environ_key(name), "")
    return value


@functools.cache
def _environ_key(name: str) -> str:
    return "HTTP_" + name.upper().replace("-", "_")


def public_url(path: str = "") -> str:
    """An absolute URL for ``path`` on ``PLUGIN_BASE_URL``, or on this request's origin."""
    base = (current_app.config["PLUGIN_BASE_URL"] or request.host_url).rstrip("/")
    return base + path
