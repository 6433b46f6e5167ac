"""MCP Apps (``io.modelcontextprotocol/ui``): the UI an operation names, as a ``ui://`` resource.

An operation declared with ``ui=`` names a Jinja template. It is rendered once per app into one
self-contained HTML document (CSS and scripts inline, the vendored ``App`` class among them),
listed by ``resources/list``, answered by ``resources/read`` as ``text/html;profile=mcp-app``
with its exact CSP, and pointed at from the tool's ``_meta.ui.resourceUri``.

From the SDK's ``mcp.server.apps`` this takes the extension id, the MIME type and
``ResourceCsp``. Its ``Apps`` extension itself does not fit the way /mcp is served: it
contributes tools as decorated Python functions and HTML as ``TextResource`` objects to
``MCPServer``'s managers, while /mcp is the lowlevel ``Server`` whose tools are built from the
operation registry (one declaration for /api, OpenAPI and MCP). The same wire shapes are built
here from the SDK's typed models, and the extension is advertised through ``Server.extensions``,
the map ``MCPServer(extensions=[Apps()])`` fills.

Only 2026-07-28 answers (``server/discover``) carry that advertisement. MCP Apps negotiates
under ``capabilities.extensions`` (SEP-1724, now SEP-2133), a member the 2025-11-25 schema does
not have: the SDK's 2025 ``ServerCapabilities`` ignores unknown members and its runner sieves
every 2025-era result through that schema, so an ``initialize`` answer cannot carry it.
``capabilities.experimental`` would pass the sieve, but the spec names no such place (moving
the negotiation there was proposed, ext-apps #231/#232, and not adopted), so no host reads it.
Nor does the spec ask servers to advertise: hosts of that era find a UI from the tool's
``_meta.ui.resourceUri``, which tools carry in both eras. ``client_supports_apps`` is not used to
branch: a stateless 2025-era request never carries the capabilities its ``initialize`` declared,
so every client gets the same tools and a text answer that stands alone, and hosts without the
extension ignore the ``_meta`` keys.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import mcp_types as types
from flask import Flask, current_app
from markupsafe import Markup
from mcp.server.apps import APP_MIME_TYPE, ResourceCsp

from plugin.api.declarations import OperationUi, RegisteredOperation, ServedUi
from plugin.api.operations import operations
from plugin.oauth.resources.audiences import mcp_resource
from plugin.web import public_url

EXTENSION = "plugin.mcp.apps"
VENDOR = Path(__file__).parent / "vendor"
# What the server advertises under capabilities.extensions (the MIME types it serves).
SETTINGS = {"mimeTypes": [APP_MIME_TYPE]}
# ChatGPT's names from before the standard, still read by some of its clients.
OPENAI_TEMPLATE = "openai/outputTemplate"
OPENAI_CSP = "openai/widgetCSP"
OPENAI_DOMAIN = "openai/widgetDomain"
OPENAI_WIDGET_ACCESSIBLE = "openai/widgetAccessible"
OPENAI_VISIBILITY = "openai/visibility"
# A UI's URI holds its content's digest, so what one URI names never changes: clients may keep
# it a day, and share it between people (it holds no one's data). The list changes on deploys.
READ_TTL_MS = 24 * 3600 * 1000
LIST_TTL_MS = 3600 * 1000
_EXPORTS = re.compile(r"export\s*\{([^}]*)\}\s*;?\s*$")


@cache
def library_script() -> str:
    """The vendored ``App`` module, its exports turned into ``globalThis.McpApps``.

    The UI inlines it as a module script of its own (its minified names stay in its scope);
    the UI's script, a later module script, reads ``McpApps.App`` from there.
    """
    source = (VENDOR / "ext-apps-app.js").read_text(encoding="utf-8")
    found = _EXPORTS.search(source)
    if found is None or "</script" in source.lower():
        raise RuntimeError(
            f"{VENDOR / 'ext-apps-app.js'} is not the self-contained ESM build this expects"
        )
    pairs = []
    for name in found.group(1).split(","):
        local, _, exported = name.strip().partition(" as ")
        pairs.append(f"{(exported or local).strip()}:{local.strip()}")
    return source[: found.start()] + "globalThis.McpApps={" + ",".join(pairs) + "};"


@dataclass(frozen=True)
class UiResource:
    """One UI, rendered: what ``resources/list`` and ``resources/read`` answer for it."""

    ui: OperationUi
    uri: str
    html: str

    @property
    def size(self) -> int:
        return len(self.html.encode())

    @property
    def csp(self) -> ResourceCsp:
        # Every list is present, empty when the UI needs nothing: "none" is stated, not implied.
        ui = self.ui
        return ResourceCsp(
            connect_domains=list(ui.connect_domains),
            resource_domains=list(ui.resource_domains),
            frame_domains=list(ui.frame_domains),
            base_uri_domains=list(ui.base_uri_domains),
        )

    def meta(self) -> dict[str, Any]:
        csp = self.csp.model_dump(by_alias=True)
        ui: dict[str, Any] = {"csp": csp, "prefersBorder": self.ui.prefers_border}
        meta: dict[str, Any] = {
            "ui": ui,
            OPENAI_CSP: {
                "connect_domains": csp["connectDomains"],
                "resource_domains": csp["resourceDomains"],
                "frame_domains": csp["frameDomains"],
            },
        }
        domain = ui_domain()
        if domain:
            ui["domain"] = domain
            # ChatGPT's older key names the app's own origin (it derives a sandbox from it).
            meta[OPENAI_DOMAIN] = public_url()
        return meta

    def listing(self) -> types.Resource:
        return types.Resource(
            uri=self.uri,
            name=self.ui.template,
            title=self.ui.title or None,
            mime_type=APP_MIME_TYPE,
            size=self.size,
            _meta=self.meta(),
        )

    def contents(self) -> types.TextResourceContents:
        return types.TextResourceContents(
            uri=self.uri, mime_type=APP_MIME_TYPE, text=self.html, _meta=self.meta()
        )


def ui_domain() -> str | None:
    """``_meta.ui.domain``: each host reads it its own way (see MCP_UI_DOMAIN in the docs).

    Claude refuses any value but ``<sha256(MCP URL)[:32]>.claudemcpcontent.com`` and picks that
    origin itself anyway; ChatGPT derives its sandbox origin from the same URL since Dec 2026
    and reads the older ``openai/widgetDomain`` (the public origin) besides.
    """
    setting = current_app.config["MCP_UI_DOMAIN"]
    if setting == "none":
        return None
    if setting == "claude":
        digest = hashlib.sha256(mcp_resource().encode()).hexdigest()[:32]
        return f"{digest}.claudemcpcontent.com"
    return str(setting)


def render(app: Flask, ui: OperationUi) -> UiResource:
    """Render the template once; it sees no request and no person, only the App library."""
    template = app.jinja_env.get_template(ui.template)
    # The vendored library is code of ours, not input: it goes into the page as it is.
    html = template.render(mcp_apps_library=Markup(library_script()))  # noqa: S704
    # The content's digest is in the URI: hosts keep a UI by its URI, so a new one is fetched.
    digest = hashlib.sha256(html.encode()).hexdigest()[:12]
    return UiResource(ui, f"ui://app/{digest}/{ui.template}", html)


def ui_resources(app: Flask | None = None) -> dict[str, UiResource]:
    """Every UI an operation names, rendered once per app, by template."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    found: dict[str, UiResource] | None = app.extensions.get(EXTENSION)
    if found is None:
        found = {}
        for registered in operations(app):
            ui = registered.operation.ui
            if ui is None:
                continue
            if ui.template in found:
                if found[ui.template].ui != ui:
                    raise ValueError(
                        f"{registered.operation.operation_id} declares {ui.template!r} "
                        "differently from another operation: declare one OperationUi and share it"
                    )
                continue
            found[ui.template] = render(app, ui)
        app.extensions[EXTENSION] = found
    return found


def served_uis() -> list[ServedUi]:
    """Every UI with its URI and size, for ``check --directory`` (through the api registry)."""
    return [ServedUi(found.ui, found.uri, found.size) for found in ui_resources().values()]


def find_resource(uri: str) -> UiResource | None:
    return next((found for found in ui_resources().values() if found.uri == uri), None)


def tool_meta(registered: RegisteredOperation) -> dict[str, Any]:
    """What a tool carries for hosts that show UIs (ignored by those that do not)."""
    operation = registered.operation
    ui: dict[str, Any] = {}
    meta: dict[str, Any] = {}
    if operation.ui is not None:
        uri = ui_resources()[operation.ui.template].uri
        ui["resourceUri"] = uri
        meta[OPENAI_TEMPLATE] = uri
    visibility = list(operation.visibility)
    if visibility != ["model", "app"]:
        ui["visibility"] = visibility
    if "app" in visibility:
        # ChatGPT's older bridge lets a UI call only tools marked so.
        meta[OPENAI_WIDGET_ACCESSIBLE] = True
    if "model" not in visibility:
        meta[OPENAI_VISIBILITY] = "private"
    if ui:
        meta["ui"] = ui
    return meta


def list_resources() -> types.ListResourcesResult:
    return types.ListResourcesResult(
        resources=[found.listing() for found in ui_resources().values()]
    )


def read_resource(uri: str) -> types.ReadResourceResult | None:
    found = find_resource(uri)
    if found is None:
        return None
    return types.ReadResourceResult(contents=[found.contents()])
