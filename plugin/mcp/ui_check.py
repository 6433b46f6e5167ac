"""Lint every UI an operation declares, for ``flask check``: what a host and a reviewer see.

For each ``OperationUi`` in the registry: the template renders to one complete HTML5 document,
served as ``text/html;profile=mcp-app``; its CSP is stated and minimal (no wildcard, every
declared domain referenced by the page, every outside URL the page loads, fetches or frames
declared); and its size fits the budget below, printed with the measured size.

The UI is linted from this app's templates, in-process, also when ``check`` is given a
BASE_URL: ``/mcp`` answers ``resources/read`` only to a token holder, and the resource is the
template rendered without a request or a person, so the code that serves it renders the same
bytes here. Run the check from the release you deploy.
"""

from __future__ import annotations

import gzip
import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app
from jinja2 import TemplateError, TemplateNotFound
from mcp.server.apps import APP_MIME_TYPE

from plugin.api.checks import Fetch, Finding
from plugin.api.declarations import OperationUi
from plugin.api.operations import operations
from plugin.mcp.apps import UiResource, library_script, render

# The vendored App class alone is 541,828 bytes and the sample's list adds ~14 KB (556,213,
# 133,539 gzipped). 768 KiB leaves a UI of one's own about 240 KB beside the library, and the
# sample 40% headroom; hosts fetch a URI once and keep it, so what travels is the gzipped size.
BUDGET = 768 * 1024
BUDGET_GZIPPED = 192 * 1024
CSP_LISTS = {
    "connectDomains": "connect_domains",
    "resourceDomains": "resource_domains",
    "frameDomains": "frame_domains",
    "baseUriDomains": "base_uri_domains",
}
# Which CSP list lets the browser make each kind of request (a URL in a script may be either).
ALLOWED_BY = {
    "resource": ("resource_domains",),
    "frame": ("frame_domains",),
    "connect": ("connect_domains",),
    "script": ("connect_domains", "resource_domains"),
    "base": ("base_uri_domains",),
}
_ATTRIBUTES = {
    "src": "resource",
    "srcset": "resource",
    "imagesrcset": "resource",
    "poster": "resource",
    "background": "resource",
    "data": "resource",
    "action": "connect",
    "formaction": "connect",
}
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""", re.IGNORECASE)
_SCRIPT_URL = re.compile(r"""['"`]((?:https?|wss?):)?(//[^'"`\s]+)""", re.IGNORECASE)


def check_uis(fetch: Fetch, origin: str) -> list[Finding]:
    """Every UI this app declares (registered with ``flask check``; see the module's note)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    found: list[Finding] = []
    declared: dict[str, OperationUi] = {}
    for registered in operations(app):
        ui = registered.operation.ui
        if ui is None:
            continue
        where = f"mcp.ui[{ui.template}]"
        if ui.template in declared:
            if declared[ui.template] != ui:
                found.append(
                    Finding(
                        where,
                        f"{registered.operation.operation_id} declares it differently from "
                        "another operation: declare one OperationUi and share it",
                    )
                )
            continue
        declared[ui.template] = ui
        with app.test_request_context(base_url=origin):
            found += check_ui(app, ui)
    return found


def check_ui(app: Flask, ui: OperationUi) -> list[Finding]:
    """Render ``ui`` as ``resources/read`` would and lint what a host receives."""
    where = f"mcp.ui[{ui.template}]"
    try:
        resource = render(app, ui)
    except TemplateNotFound as error:
        return [Finding(where, f"template {error.name!r} not found: put it under templates/")]
    except TemplateError as error:
        return [Finding(where, f"template does not render: {error}")]
    contents = resource.contents()
    mime_types = {resource.listing().mime_type, contents.mime_type}
    return (
        _check_mime(where, mime_types)
        + check_document(where, resource.html)
        + check_csp(where, contents.meta or {}, resource.html)
        + check_size(where, resource)
    )


def _check_mime(where: str, mime_types: set[str | None]) -> list[Finding]:
    if mime_types != {APP_MIME_TYPE}:
        shown = ", ".join(sorted(str(mime) for mime in mime_types))
        return [Finding(where, f"served as {shown}; hosts render only {APP_MIME_TYPE}")]
    return []


class _Page(HTMLParser):
    """What a browser would find: the doctype, the document's parts and the URLs it loads."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.doctype_first = False
        self.seen_content = False
        self.started: set[str] = set()
        self.ended: set[str] = set()
        self.urls: list[tuple[str, str]] = []  # (kind, url)
        self._in: str | None = None

    def handle_decl(self, decl: str) -> None:
        if not self.seen_content and decl.strip().lower() == "doctype html":
            self.doctype_first = True
        self.seen_content = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen_content = True
        self.started.add(tag)
        self._in = tag if tag in ("script", "style") else None
        for name, value in attrs:
            if not value:
                continue
            if name == "style":
                self._css(value)
            elif name == "href" and tag in ("link", "base"):
                self.urls.append(("base" if tag == "base" else "resource", value))
            elif name == "src" and tag in ("iframe", "frame"):
                self.urls.append(("frame", value))
            elif name in ("srcset", "imagesrcset"):
                self.urls += [("resource", part.split()[0]) for part in value.split(",") if part]
            elif name in _ATTRIBUTES:
                self.urls.append((_ATTRIBUTES[name], value))

    def handle_endtag(self, tag: str) -> None:
        self.ended.add(tag)
        self._in = None

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.seen_content = True
        if self._in == "style":
            self._css(data)
        elif self._in == "script":
            found = _SCRIPT_URL.findall(data)
            self.urls += [("script", (scheme or "https:") + rest) for scheme, rest in found]

    def _css(self, text: str) -> None:
        self.urls += [("resource", url or imported) for url, imported in _CSS_URL.findall(text)]


def _parse(html: str) -> _Page:
    page = _Page()
    # The vendored App class is pinned and makes no request of its own; the URLs in it are
    # JSON-Schema identifiers and help texts, which would read as references here.
    page.feed(html.replace(library_script(), ""))
    page.close()
    return page


def check_document(where: str, html: str) -> list[Finding]:
    """A complete HTML5 document: the doctype first, then html, head and body, closed."""
    page = _parse(html)
    missing = [f"<{tag}>" for tag in ("html", "head", "body") if tag not in page.started]
    problems = []
    if not page.doctype_first:
        problems.append("does not begin with <!doctype html>")
    if missing:
        problems.append("has no " + ", ".join(missing))
    if "html" not in page.ended or not html.rstrip().lower().endswith("</html>"):
        problems.append("does not end with </html>")
    if problems:
        return [Finding(where, f"is not a complete HTML5 document: it {'; it '.join(problems)}")]
    return []


def _origin(url: str) -> tuple[str, str] | None:
    """(scheme, host[:port]) of an absolute or protocol-relative URL; None for a local one."""
    parts = urlsplit("https:" + url if url.startswith("//") else url)
    if parts.scheme.lower() not in ("http", "https", "ws", "wss") or not parts.netloc:
        return None
    return parts.scheme.lower(), parts.netloc.lower()


def _allows(domain: str, origin: tuple[str, str]) -> bool:
    # A domain is declared as an origin (https://api.example.com) or a bare host.
    declared = _origin(domain) or ("", domain.lower().rstrip("/"))
    return declared[1] == origin[1] and declared[0] in ("", origin[0])


def check_csp(where: str, meta: dict[str, Any], html: str) -> list[Finding]:
    """The CSP is stated, has no wildcard, and lists exactly the origins the page uses."""
    csp = (meta.get("ui") or {}).get("csp")
    if not isinstance(csp, dict) or any(not isinstance(csp.get(key), list) for key in CSP_LISTS):
        return [Finding(where, "states no _meta.ui.csp: hosts then block or guess")]
    lists = {name: [str(domain) for domain in csp[key]] for key, name in CSP_LISTS.items()}
    found: list[Finding] = []
    for name, domains in lists.items():
        for domain in domains:
            if "*" in domain:
                found.append(Finding(where, f"{name} has the wildcard {domain!r}: list each host"))
    used: set[str] = set()
    for kind, url in _parse(html).urls:
        origin = _origin(url)
        if origin is None:
            continue
        allowed_in = ALLOWED_BY[kind]
        allowing = [d for name in allowed_in for d in lists[name] if _allows(d, origin)]
        used.update(d for domains in lists.values() for d in domains if _allows(d, origin))
        if not allowing:
            found.append(
                Finding(
                    where,
                    f"uses {url} but {' or '.join(allowed_in)} does not declare "
                    f"{origin[0]}://{origin[1]}: hosts will block it (declare it, or inline it)",
                )
            )
    for name, domains in lists.items():
        for domain in domains:
            if domain not in used and "*" not in domain:
                found.append(
                    Finding(
                        where,
                        f"{name} declares {domain}, which the page never uses: remove it "
                        "(reviewers want the CSP exact)",
                    )
                )
    return found


def check_size(where: str, resource: UiResource) -> list[Finding]:
    """The measured size against the budget: an error over it, the figures either way."""
    size = resource.size
    gzipped = len(gzip.compress(resource.html.encode()))
    figures = (
        f"{resource.uri} (rendered in-process): {size:,} bytes ({gzipped:,} gzipped) of a "
        f"{BUDGET:,}-byte budget ({BUDGET_GZIPPED:,} gzipped)"
    )
    if size > BUDGET or gzipped > BUDGET_GZIPPED:
        return [
            Finding(
                where,
                f"{figures}: over budget; inline less, or load assets from declared domains",
            )
        ]
    return [Finding(where, figures, "info")]
