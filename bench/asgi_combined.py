"""The alternative serving model, for comparison only: one ASGI app, the SDK at /mcp and Flask
through a2wsgi for everything else (``gunicorn bench.asgi_combined:app -k asgi``)."""

from __future__ import annotations

from a2wsgi import WSGIMiddleware
from mcp.server.lowlevel.server import Server
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.routing import Mount

from plugin import create_app

flask_app = create_app()
sdk = Server("bench").streamable_http_app(
    json_response=True,
    stateless_http=True,
    transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
)
app = Starlette(
    routes=[Mount("/mcp", sdk), Mount("/", WSGIMiddleware(flask_app))],  # type: ignore[arg-type]
    lifespan=sdk.router.lifespan_context,
)
